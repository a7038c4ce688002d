import { judgeAgreement } from '@verdict/rl';
import type { SampleGroup, ScoredSample } from './scored-sample.js';

export interface RewardStats {
  readonly totalMean: number;
  readonly totalStd: number;
  readonly verifiableMean?: number;
  readonly judgeMean?: number;
  readonly rerankMean?: number;
  readonly judgePYesFullMean?: number;
  readonly judgeOtherMassMean?: number;
}

export interface MaskedCountsMetrics {
  readonly ok: number;
  readonly abstain: number;
  readonly timeout: number;
  readonly error: number;
  readonly stale: number;
}

export interface StepTimingsMs {
  readonly rolloutWaitMs: number;
  readonly advantageMs: number;
  readonly trainMs: number;
  readonly publishMs: number;
  readonly totalMs: number;
}

/**
 * Where a step's wall time went (ms). generate/judge/reward/messaging partition the wait for its
 * rollouts (see partitionRolloutWait); score/reference/update are the policy worker's; idle is the
 * rest of the step (advantages, packing, metrics, evaluation). They sum to `timings.totalMs`.
 */
export interface StepPhasesMs {
  readonly generate: number;
  readonly judge: number;
  readonly reward: number;
  readonly messaging: number;
  readonly score: number;
  readonly reference: number;
  readonly update: number;
  readonly checkpoint: number;
  readonly weightHandover: number;
  readonly idle: number;
}

/** Everything the learner reports per step (the StepMetrics message, in domain form). */
export interface StepMetricsRecord {
  readonly runId: string;
  readonly step: number;
  readonly weightsVersion: number;
  readonly time: string;
  readonly reward: RewardStats;
  readonly kl: number;
  readonly entropy: number;
  readonly responseLengthMean: number;
  /** Judge-vs-gold agreement on labeled samples with both terms OK; absent when there were none. */
  readonly judgeGoldAgreement?: number;
  readonly judgeGoldCount: number;
  readonly mismatchKl: number;
  readonly mismatchMaxAbsLogprobDiff: number;
  readonly masked: MaskedCountsMetrics;
  readonly timings: StepTimingsMs;
  readonly phases: StepPhasesMs;
  readonly policyLoss: number;
  /** PPO only. */
  readonly valueLoss?: number;
  readonly gradNorm: number;
  /** Cosine between the two halves of each update's gradient (≥ 2 micro-batches per update; see TrainOutcome). */
  readonly gradHalvesCosine?: number;
  readonly clipFraction: number;
  readonly stalenessMean: number;
  readonly learningRate: number;
  readonly samplesUsed: number;
  readonly zeroVarianceGroups: number;
  /** Groups with reward variance the update used (dynamic sampling draws until it has promptsPerStep). */
  readonly informativeGroups: number;
  /** Rounds of rollout requests this step made (1 without dynamic sampling). */
  readonly samplingRounds: number;
  readonly trainSkipped: boolean;
  readonly judgeHackingSuspected: boolean;
  /** The reward-hacking monitor's verdict on this step (absent until the step's tail has run). */
  readonly hacking?: {
    readonly suspect: boolean;
    readonly alarm: boolean;
    readonly firstAlarmStep: number | null;
    readonly reason?: string;
  };
  /** Generated-by counts per policy-server instance (debugging load balance). */
  readonly generators: Readonly<Record<string, number>>;
  /** Periodic evaluation of this step (evalEverySteps; JSONL only, the proto has no field for it). */
  readonly evaluation?: {
    readonly scores: readonly { suite: string; n: number; greedyAccuracy: number; policyVersion: number }[];
    readonly error?: string;
    readonly ms: number;
  };
}

function mean(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function std(xs: readonly number[]): number {
  const m = mean(xs);
  if (m === undefined || xs.length < 2) return 0;
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** Reward terms, each separately, over the OK samples (a term's mean only over samples where it is OK). */
export function rewardStats(samples: readonly ScoredSample[]): RewardStats {
  const ok = samples.filter((s) => s.status === 'OK');
  const totals = ok.map((s) => s.total);
  const term = (pick: (s: ScoredSample) => { status: string; value: number } | undefined) =>
    mean(
      ok
        .map(pick)
        .filter((c) => c !== undefined && c.status === 'OK')
        .map((c) => c!.value),
    );
  const opt = (k: string, v: number | undefined) => (v === undefined ? {} : { [k]: v });
  return {
    totalMean: mean(totals) ?? 0,
    totalStd: std(totals),
    ...opt(
      'verifiableMean',
      term((s) => s.verifiable),
    ),
    ...opt(
      'judgeMean',
      term((s) => s.judge),
    ),
    ...opt(
      'rerankMean',
      term((s) => s.rerank),
    ),
    ...opt(
      'judgePYesFullMean',
      mean(
        ok
          .filter((s) => s.judge?.status === 'OK' && s.judgePYesFull !== undefined)
          .map((s) => s.judgePYesFull!),
      ),
    ),
    ...opt(
      'judgeOtherMassMean',
      mean(
        ok
          .filter((s) => s.judge?.status === 'OK' && s.judgeOtherMass !== undefined)
          .map((s) => s.judgeOtherMass!),
      ),
    ),
  };
}

/** Counts by reward status of the samples that reached a step, plus the stale-dropped ones. */
export function maskedCounts(samples: readonly ScoredSample[], staleCount: number): MaskedCountsMetrics {
  const c = { ok: 0, abstain: 0, timeout: 0, error: 0, stale: staleCount };
  for (const s of samples) {
    if (s.status === 'OK') c.ok++;
    else if (s.status === 'ABSTAIN') c.abstain++;
    else if (s.status === 'TIMEOUT') c.timeout++;
    else c.error++;
  }
  return c;
}

/**
 * Agreement of the judge (score ≥ 0.5) with the verifiable reward (= gold correctness) on labeled
 * samples where both terms are OK (reward-service computes both when μ > 0 routes the judge on labeled).
 */
export function judgeGoldAgreement(samples: readonly ScoredSample[]): { agreement?: number; count: number } {
  const both = samples.filter((s) => s.labeled && s.judge?.status === 'OK' && s.verifiable?.status === 'OK');
  if (both.length === 0) return { count: 0 };
  const r = judgeAgreement(
    both.map((s) => s.judge!.value),
    both.map((s) => s.verifiable!.value >= 0.5),
  );
  return { agreement: r.agreement, count: r.count };
}

export function samplesOf(groups: readonly SampleGroup[]): ScoredSample[] {
  return groups.flatMap((g) => g.samples);
}

export function responseLengthMean(samples: readonly ScoredSample[]): number {
  return mean(samples.map((s) => s.completionIds.length)) ?? 0;
}

export function stalenessMean(samples: readonly ScoredSample[], currentVersion: number): number {
  return mean(samples.map((s) => currentVersion - s.policyVersion)) ?? 0;
}

export function generatorCounts(samples: readonly ScoredSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) out[s.generatorId] = (out[s.generatorId] ?? 0) + 1;
  return out;
}
