import {
  answersEqual,
  arithmeticClaims,
  type ExtractionMode,
  extractAnswer,
  extractionValue,
  isNoneAnswer,
  parseNumber,
} from '@verdict/data';
import { commonV1, type judgeV1, type rewardV1 } from '@verdict/proto';
import {
  type MixedReward,
  mixRewardComponents,
  planRewardTerms,
  type QuestionSource,
  type RewardComponent,
  type RewardMixConfig,
  type RewardStatus,
  type RewardTerm,
} from '@verdict/rl';
import { computeGroupRerank, type RerankOutcome } from './group-rerank.js';

/** One completion to score. `gold` is a getter so λ = 0 provably never reads it. */
export interface SampleToScore {
  readonly id: string;
  readonly question: string;
  readonly completion: string;
  readonly labeled: boolean;
  readonly gold: () => string | undefined;
  /**
   * The sample's group (GRPO: the rollout group id), sent to the judge as its group key so the
   * judge computes the prompt the group's samples share (template + question) once. Absent or "" = none.
   */
  readonly groupId?: string;
}

/** What the verifiable reward checks (reward.proto `VerifiableCheck`). */
export type VerifiableCheckMode = 'answer' | 'answer-and-arithmetic';

export interface RewardSettings {
  readonly mix: RewardMixConfig;
  readonly extractionMode: ExtractionMode;
  readonly verifiableCheck: VerifiableCheckMode;
  /** Judge scores within 0.5 ± band are ABSTAIN (masked); 0 disables. */
  readonly abstainBand: number;
  readonly judgeTemplateName: string;
  /** Deadline of one judge call, retries included. */
  readonly judgeTimeoutMs: number;
  /**
   * Which judge score the judge and rerank terms read (REWARD_JUDGE_SCORE): the raw
   * σ(z_yes − z_no) or the judge-server's calibrated_score. Absent = raw.
   */
  readonly judgeScore?: JudgeScoreChoice;
}

export type JudgeScoreChoice = 'raw' | 'calibrated';

/**
 * The score of an OK judge result under `choice`, or why there is none. A missing calibrated
 * score is an error, never a silent fall-back to raw: the two are on different scales.
 */
export function chosenJudgeScore(
  r: judgeV1.JudgeResult,
  choice: JudgeScoreChoice = 'raw',
): { value: number } | { error: string } {
  if (choice === 'raw') return { value: r.score };
  if (r.calibratedScore === undefined) {
    return {
      error: `REWARD_JUDGE_SCORE=calibrated but the judge result has no calibrated_score (the judge-server has no calibration for template ${JSON.stringify(r.provenance?.templateName ?? '')})`,
    };
  }
  return { value: r.calibratedScore };
}

/** What asking the judge about one item gave: a result, or why there is none. */
export type JudgeCallOutcome =
  | { readonly kind: 'result'; readonly result: judgeV1.JudgeResult }
  | { readonly kind: 'timeout'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

/** Asks the judge about one item; `timeoutMs` overrides the asker's default deadline. */
export type AskJudge = (
  item: judgeV1.JudgeItem,
  options?: { timeoutMs?: number },
) => Promise<JudgeCallOutcome>;

const JUDGE_OK = 1;
const JUDGE_TIMEOUT = 3;

/** Gold text → value: a number, `null` for "None"; undefined when it does not parse. */
function parseGold(gold: string): number | null | undefined {
  const value = parseNumber(gold);
  if (value !== undefined) return value;
  return isNoneAnswer(gold) ? null : undefined;
}

function judgeComponent(
  outcome: JudgeCallOutcome,
  abstainBand: number,
  choice: JudgeScoreChoice | undefined,
): RewardComponent {
  if (outcome.kind === 'timeout') return { status: 'TIMEOUT', detail: outcome.message };
  if (outcome.kind === 'error') return { status: 'ERROR', detail: outcome.message };
  const r = outcome.result;
  if (r.status === JUDGE_TIMEOUT) return { status: 'TIMEOUT', detail: `judge: ${r.message}` };
  if (r.status !== JUDGE_OK) return { status: 'ERROR', detail: `judge status ${r.status}: ${r.message}` };
  const chosen = chosenJudgeScore(r, choice);
  if ('error' in chosen) return { status: 'ERROR', detail: chosen.error };
  const score = chosen.value;
  if (abstainBand > 0 && Math.abs(score - 0.5) <= abstainBand) {
    return { status: 'ABSTAIN', detail: `judge score ${score} within 0.5 ± ${abstainBand}` };
  }
  return { status: 'OK', value: score };
}

const STATUS: Record<RewardStatus, commonV1.RewardStatus> = {
  OK: commonV1.RewardStatus.REWARD_STATUS_OK,
  ABSTAIN: commonV1.RewardStatus.REWARD_STATUS_ABSTAIN,
  TIMEOUT: commonV1.RewardStatus.REWARD_STATUS_TIMEOUT,
  ERROR: commonV1.RewardStatus.REWARD_STATUS_ERROR,
};

function toWireComponent(c: RewardComponent | undefined): rewardV1.RewardComponent | undefined {
  if (c === undefined) return undefined;
  return c.status === 'OK'
    ? { status: STATUS.OK, value: c.value, message: c.detail ?? '' }
    : { status: STATUS[c.status], value: 0, message: c.detail ?? '' };
}

/** A sample after its own terms are computed, before the group-relative rerank term. */
export interface JudgedSample {
  readonly source: QuestionSource;
  /** The planned VR / judge components, as computed. */
  readonly components: Readonly<Partial<Record<'vr' | 'judge', RewardComponent>>>;
  /** The rerank term is planned for this sample (ρ > 0 and routed for its source). */
  readonly needsRerank: boolean;
  /** The judge score the rerank term ranks; undefined when the judge call gave none. */
  readonly judgeScore: number | undefined;
  readonly judgeDetail: judgeV1.JudgeResult | undefined;
  readonly extractedAnswer: string;
}

function vrComponent(
  sample: SampleToScore,
  extraction: ReturnType<typeof extractAnswer>,
  check: VerifiableCheckMode,
): RewardComponent {
  const goldText = sample.gold();
  if (goldText === undefined) return { status: 'ERROR', detail: 'labeled sample without a gold answer' };
  const goldValue = parseGold(goldText);
  if (goldValue === undefined) {
    return { status: 'ERROR', detail: `gold answer ${JSON.stringify(goldText)} does not parse` };
  }
  const answered = answersEqual(extractionValue(extraction), goldValue);
  if (!answered || check === 'answer') return { status: 'OK', value: answered ? 1 : 0 };
  const slip = arithmeticClaims(sample.completion).find((c) => !c.holds);
  return slip === undefined
    ? { status: 'OK', value: 1 }
    : {
        status: 'OK',
        value: 0,
        detail: `right answer through a wrong step: ${slip.a} ${slip.op} ${slip.b} ≠ ${slip.claimed}`,
      };
}

/**
 * Computes a sample's own terms: VR (only when planned, so with λ = 0 the gold answer is never
 * read) and the judge, asked at most once when the judge or the rerank term is planned (rerank
 * ranks the judge score: no extra model call). A thrown scorer becomes an ERROR component.
 */
export async function judgeSample(
  sample: SampleToScore,
  settings: RewardSettings,
  askJudge: AskJudge | undefined,
): Promise<JudgedSample> {
  const source: QuestionSource = sample.labeled ? 'labeled' : 'unlabeled';
  const planned = new Set(planRewardTerms(settings.mix, source).map((p) => p.term));
  const extraction = extractAnswer(sample.completion, settings.extractionMode);
  const components: Partial<Record<'vr' | 'judge', RewardComponent>> = {};
  const guard = (term: string, compute: () => RewardComponent): RewardComponent => {
    try {
      return compute();
    } catch (error) {
      return {
        status: 'ERROR',
        detail: `${term} scorer threw: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  };
  if (planned.has('vr'))
    components.vr = guard('vr', () => vrComponent(sample, extraction, settings.verifiableCheck));
  let judgeDetail: judgeV1.JudgeResult | undefined;
  let judgeScore: number | undefined;
  if (planned.has('judge') || planned.has('rerank')) {
    let outcome: JudgeCallOutcome;
    if (askJudge === undefined) outcome = { kind: 'error', message: 'no judge configured' };
    else {
      try {
        outcome = await askJudge(
          {
            id: sample.id,
            question: sample.question,
            solution: sample.completion,
            templateName: settings.judgeTemplateName,
            ...(sample.groupId ? { groupKey: sample.groupId } : {}),
          },
          { timeoutMs: settings.judgeTimeoutMs },
        );
      } catch (error) {
        outcome = { kind: 'error', message: `judge scorer threw: ${String(error)}` };
      }
    }
    if (outcome.kind === 'result') {
      judgeDetail = outcome.result;
      const chosen = chosenJudgeScore(outcome.result, settings.judgeScore);
      if (outcome.result.status === JUDGE_OK && 'value' in chosen && Number.isFinite(chosen.value)) {
        judgeScore = chosen.value;
      }
    }
    if (planned.has('judge'))
      components.judge = judgeComponent(outcome, settings.abstainBand, settings.judgeScore);
  }
  return {
    source,
    components,
    needsRerank: planned.has('rerank'),
    judgeScore,
    judgeDetail,
    extractedAnswer: extraction.kind === 'missing' ? '' : extraction.raw,
  };
}

/**
 * Mixes a judged sample with its rerank outcome (`computeGroupRerank`). An unavailable rerank
 * term is left out with the other weights renormalised; on the wire it is an ABSTAIN component
 * saying why, with effective ρ = 0. A term that could not be computed masks the sample with a
 * typed status; the total is then 0 on the wire but the status is not OK.
 */
export function finishSample(
  judged: JudgedSample,
  settings: RewardSettings,
  rerank: RerankOutcome | undefined,
): rewardV1.RewardResult {
  const components: Partial<Record<RewardTerm, RewardComponent>> = { ...judged.components };
  const unavailable: Partial<Record<RewardTerm, string>> = {};
  if (judged.needsRerank) {
    const outcome = rerank ?? { kind: 'unavailable', reason: 'sample is not in a group' };
    if (outcome.kind === 'value') components.rerank = { status: 'OK', value: outcome.value };
    else unavailable.rerank = outcome.reason;
  }
  const mixed: MixedReward = mixRewardComponents(settings.mix, judged.source, components, { unavailable });
  const wireRerank =
    unavailable.rerank === undefined
      ? toWireComponent(mixed.components.rerank)
      : { status: STATUS.ABSTAIN, value: 0, message: `unavailable: ${unavailable.rerank}` };
  return {
    total: mixed.reward ?? 0,
    status: STATUS[mixed.status],
    message: mixed.detail ?? '',
    components: {
      verifiable: toWireComponent(mixed.components.vr ?? judged.components.vr),
      judge: toWireComponent(mixed.components.judge ?? judged.components.judge),
      rerank: wireRerank,
      judgeDetail: judged.judgeDetail,
      extractedAnswer: judged.extractedAnswer,
    },
    provenance: judged.judgeDetail?.provenance,
    effectiveWeights: {
      lambdaVr: mixed.weights.vr ?? 0,
      muJudge: mixed.weights.judge ?? 0,
      rhoRerank: mixed.weights.rerank ?? 0,
    },
  };
}

/**
 * Scores one sample on its own. With ρ > 0 it has no group to be ranked in, so its rerank term
 * is unavailable (weights renormalised); use `scoreGroup` for the G samples of a question.
 */
export async function scoreSample(
  sample: SampleToScore,
  settings: RewardSettings,
  askJudge: AskJudge | undefined,
): Promise<rewardV1.RewardResult> {
  return finishSample(await judgeSample(sample, settings, askJudge), settings, undefined);
}

/** Scores the samples of one group: each judged, ranked together by judge score, mixed. */
export async function scoreGroup(
  samples: readonly SampleToScore[],
  settings: RewardSettings,
  askJudge: AskJudge | undefined,
): Promise<rewardV1.RewardResult[]> {
  const judged = await Promise.all(samples.map((s) => judgeSample(s, settings, askJudge)));
  const reranks = computeGroupRerank(judged.map((j) => j.judgeScore));
  return judged.map((j, i) => finishSample(j, settings, reranks[i]));
}
