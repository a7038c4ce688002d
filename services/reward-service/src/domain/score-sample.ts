import {
  answersEqual,
  type ExtractionMode,
  extractAnswer,
  extractionValue,
  isNoneAnswer,
  parseNumber,
} from '@verdict/data';
import { commonV1, type judgeV1, type rewardV1 } from '@verdict/proto';
import {
  createRewardScorer,
  type MixedReward,
  type RewardComponent,
  type RewardMixConfig,
  type RewardStatus,
} from '@verdict/rl';

/** One completion to score. `gold` is a getter so λ = 0 provably never reads it. */
export interface SampleToScore {
  readonly id: string;
  readonly question: string;
  readonly completion: string;
  readonly labeled: boolean;
  readonly gold: () => string | undefined;
}

export interface RewardSettings {
  readonly mix: RewardMixConfig;
  readonly extractionMode: ExtractionMode;
  /** Judge scores within 0.5 ± band are ABSTAIN (masked); 0 disables. */
  readonly abstainBand: number;
  readonly judgeTemplateName: string;
}

/** What asking the judge about one item gave: a result, or why there is none. */
export type JudgeCallOutcome =
  | { readonly kind: 'result'; readonly result: judgeV1.JudgeResult }
  | { readonly kind: 'timeout'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

export type AskJudge = (item: judgeV1.JudgeItem) => Promise<JudgeCallOutcome>;

const JUDGE_OK = 1;
const JUDGE_TIMEOUT = 3;

/** Gold text → value: a number, `null` for "None"; undefined when it does not parse. */
function parseGold(gold: string): number | null | undefined {
  const value = parseNumber(gold);
  if (value !== undefined) return value;
  return isNoneAnswer(gold) ? null : undefined;
}

function judgeComponent(outcome: JudgeCallOutcome, abstainBand: number): RewardComponent {
  if (outcome.kind === 'timeout') return { status: 'TIMEOUT', detail: outcome.message };
  if (outcome.kind === 'error') return { status: 'ERROR', detail: outcome.message };
  const r = outcome.result;
  if (r.status === JUDGE_TIMEOUT) return { status: 'TIMEOUT', detail: `judge: ${r.message}` };
  if (r.status !== JUDGE_OK) return { status: 'ERROR', detail: `judge status ${r.status}: ${r.message}` };
  if (abstainBand > 0 && Math.abs(r.score - 0.5) <= abstainBand) {
    return { status: 'ABSTAIN', detail: `judge score ${r.score} within 0.5 ± ${abstainBand}` };
  }
  return { status: 'OK', value: r.score };
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
    ? { status: STATUS.OK, value: c.value, message: '' }
    : { status: STATUS[c.status], value: 0, message: c.detail ?? '' };
}

/**
 * Scores one sample: the planned terms only (per-source routing from `planRewardTerms`), the
 * judge asked at most once, mixed by `@verdict/rl`. A term that could not be computed masks
 * the sample with a typed status; the total is then 0 on the wire but the status is not OK.
 */
export async function scoreSample(
  sample: SampleToScore,
  settings: RewardSettings,
  askJudge: AskJudge | undefined,
): Promise<rewardV1.RewardResult> {
  let judgeDetail: judgeV1.JudgeResult | undefined;
  const extraction = extractAnswer(sample.completion, settings.extractionMode);
  const scorer = createRewardScorer<() => string | undefined, SampleToScore>(settings.mix, {
    vr: (gold) => {
      const goldText = gold();
      if (goldText === undefined) return { status: 'ERROR', detail: 'labeled sample without a gold answer' };
      const goldValue = parseGold(goldText);
      if (goldValue === undefined) {
        return { status: 'ERROR', detail: `gold answer ${JSON.stringify(goldText)} does not parse` };
      }
      return { status: 'OK', value: answersEqual(extractionValue(extraction), goldValue) ? 1 : 0 };
    },
    judge: async (s) => {
      if (askJudge === undefined) return { status: 'ERROR', detail: 'no judge configured' };
      const outcome = await askJudge({
        id: s.id,
        question: s.question,
        solution: s.completion,
        templateName: settings.judgeTemplateName,
      });
      if (outcome.kind === 'result') judgeDetail = outcome.result;
      return judgeComponent(outcome, settings.abstainBand);
    },
  });
  const mixed: MixedReward = await scorer.score(
    sample.labeled
      ? { source: 'labeled', gold: sample.gold, context: sample }
      : { source: 'unlabeled', context: sample },
  );
  const components: rewardV1.RewardComponents = {
    verifiable: toWireComponent(mixed.components.vr),
    judge: toWireComponent(mixed.components.judge),
    rerank: toWireComponent(mixed.components.rerank),
    judgeDetail,
    extractedAnswer: extraction.kind === 'missing' ? '' : extraction.raw,
  };
  return {
    total: mixed.reward ?? 0,
    status: STATUS[mixed.status],
    message: mixed.detail ?? '',
    components,
    provenance: judgeDetail?.provenance,
    effectiveWeights: {
      lambdaVr: mixed.weights.vr ?? 0,
      muJudge: mixed.weights.judge ?? 0,
      rhoRerank: mixed.weights.rerank ?? 0,
    },
  };
}
