import type { RewardHackingObservation, RewardHackingVerdict } from '@verdict/rl';
import type { SampleGroup, ScoredSample } from '../domain/scored-sample.js';
import {
  generatorCounts,
  judgeGoldAgreement,
  maskedCounts,
  responseLengthMean,
  rewardStats,
  type StepMetricsRecord,
  stalenessMean,
} from '../domain/step-metrics.js';
import type { RolloutWaitPhases } from '../domain/step-phases.js';
import type { TrainOutcome } from '../training/policy-trainer.js';

export interface StepDraftInput {
  readonly runId: string;
  readonly step: number;
  /** The version these updates produce. */
  readonly weightsVersion: number;
  readonly collected: {
    readonly groups: readonly SampleGroup[];
    readonly samples: readonly ScoredSample[];
    readonly staleCount: number;
    readonly rounds: number;
  };
  readonly outcome: TrainOutcome | undefined;
  readonly rowsUsed: number;
  readonly zeroVarianceGroups: number;
  readonly informativeGroups: number;
  /** The run's configured LR (reported when no update ran). */
  readonly learningRate: number;
  readonly rolloutWait: RolloutWaitPhases;
  readonly rolloutWaitMs: number;
  readonly trainMs: number;
}

/**
 * A step's metrics as known before its checkpoint: everything but the finish phase (evaluation,
 * the monitor's verdict, checkpoint and hand-over times). It is saved in the checkpoint, so a
 * resumed learner can finish the step exactly as the crashed one would have.
 */
export function draftStepMetrics(d: StepDraftInput): StepMetricsRecord {
  const { samples } = d.collected;
  const version = d.weightsVersion - 1;
  const agreement = judgeGoldAgreement(samples);
  const o = d.outcome;
  return {
    runId: d.runId,
    step: d.step,
    weightsVersion: d.weightsVersion,
    time: new Date().toISOString(),
    reward: rewardStats(samples),
    kl: o?.kl ?? 0,
    entropy: o?.entropy ?? 0,
    responseLengthMean: responseLengthMean(samples),
    ...(agreement.agreement !== undefined ? { judgeGoldAgreement: agreement.agreement } : {}),
    judgeGoldCount: agreement.count,
    mismatchKl: o?.mismatchKl ?? 0,
    mismatchMaxAbsLogprobDiff: o?.mismatchMaxAbsLogprobDiff ?? 0,
    masked: maskedCounts(samples, d.collected.staleCount),
    timings: {
      rolloutWaitMs: d.rolloutWaitMs,
      advantageMs: 0,
      trainMs: d.trainMs,
      publishMs: 0,
      totalMs: d.rolloutWaitMs + d.trainMs,
    },
    phases: {
      ...d.rolloutWait,
      score: o?.phaseMs.score ?? 0,
      reference: o?.phaseMs.reference ?? 0,
      update: o?.phaseMs.update ?? 0,
      checkpoint: 0,
      weightHandover: 0,
      idle: 0,
    },
    policyLoss: o?.policyLoss ?? 0,
    ...(o?.valueLoss !== undefined ? { valueLoss: o.valueLoss } : {}),
    gradNorm: o?.gradNorm ?? 0,
    ...(o?.gradHalvesCosine !== undefined ? { gradHalvesCosine: o.gradHalvesCosine } : {}),
    clipFraction: o?.clipFraction ?? 0,
    stalenessMean: stalenessMean(samples, version),
    learningRate: o?.learningRate ?? d.learningRate,
    samplesUsed: d.rowsUsed,
    zeroVarianceGroups: d.zeroVarianceGroups,
    informativeGroups: d.informativeGroups,
    samplingRounds: d.collected.rounds,
    trainSkipped: o === undefined || o.skipped,
    judgeHackingSuspected: false,
    generators: generatorCounts(samples),
  };
}

/** The finish phase's results, merged into the draft for the step's metrics line. */
export interface StepFinish {
  readonly evaluation?: NonNullable<StepMetricsRecord['evaluation']>;
  readonly verdict: RewardHackingVerdict;
  readonly totalMs: number;
  /** Measured by the live step; 0 when a resumed learner finishes a checkpointed step. */
  readonly measured: { readonly checkpoint: number; readonly weightHandover: number };
}

/** The step's metrics line: the draft, the finish phase's results, and `idle` = what no phase explains. */
export function completeStepMetrics(draft: StepMetricsRecord, f: StepFinish): StepMetricsRecord {
  const p = { ...draft.phases, ...f.measured };
  const busy =
    p.generate +
    p.judge +
    p.reward +
    p.messaging +
    p.score +
    p.reference +
    p.update +
    p.checkpoint +
    p.weightHandover;
  return {
    ...draft,
    time: new Date().toISOString(),
    timings: {
      ...draft.timings,
      publishMs: f.measured.checkpoint + f.measured.weightHandover,
      totalMs: f.totalMs,
    },
    phases: { ...p, idle: Math.max(0, f.totalMs - busy) },
    judgeHackingSuspected: f.verdict.alarm,
    hacking: {
      suspect: f.verdict.suspect,
      alarm: f.verdict.alarm,
      firstAlarmStep: f.verdict.firstAlarmStep,
      ...(f.verdict.reason !== undefined ? { reason: f.verdict.reason } : {}),
    },
    ...(f.evaluation ? { evaluation: f.evaluation } : {}),
  };
}

/** What the monitor sees of a step: its rollouts' judge mean and agreement, the held-out accuracy. */
export function monitorObservation(
  m: StepMetricsRecord,
  scores: readonly { readonly greedyAccuracy: number }[] | undefined,
): RewardHackingObservation {
  const evalScores = scores ?? m.evaluation?.scores;
  const heldOut =
    evalScores && evalScores.length > 0
      ? evalScores.reduce((a, e) => a + e.greedyAccuracy, 0) / evalScores.length
      : undefined;
  return {
    step: m.step,
    ...(m.reward.judgeMean !== undefined ? { judgeReward: m.reward.judgeMean } : {}),
    ...(m.judgeGoldAgreement !== undefined ? { agreement: m.judgeGoldAgreement } : {}),
    ...(heldOut !== undefined ? { heldOutAccuracy: heldOut } : {}),
  };
}
