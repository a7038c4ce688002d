import { learnerV1 } from '@verdict/proto';
import type { StepMetricsRecord } from '../domain/step-metrics.js';
import type { RunState, RunStatusSnapshot } from '../run/run-controller.js';

const STATE: Record<RunState, learnerV1.RunState> = {
  PENDING: learnerV1.RunState.RUN_STATE_PENDING,
  RUNNING: learnerV1.RunState.RUN_STATE_RUNNING,
  STOPPING: learnerV1.RunState.RUN_STATE_STOPPING,
  STOPPED: learnerV1.RunState.RUN_STATE_STOPPED,
  COMPLETED: learnerV1.RunState.RUN_STATE_COMPLETED,
  FAILED: learnerV1.RunState.RUN_STATE_FAILED,
};

export function runStatusToProto(s: RunStatusSnapshot): learnerV1.RunStatus {
  return learnerV1.RunStatus.fromPartial({
    runId: s.runId,
    state: STATE[s.state],
    step: BigInt(s.step),
    weightsVersion: BigInt(s.weightsVersion),
    maxSteps: BigInt(s.maxSteps),
    startedAt: s.startedAt,
    updatedAt: s.updatedAt,
    message: s.message,
  });
}

export function stepMetricsToProto(m: StepMetricsRecord): learnerV1.StepMetrics {
  return learnerV1.StepMetrics.fromPartial({
    runId: m.runId,
    step: BigInt(m.step),
    weightsVersion: BigInt(m.weightsVersion),
    time: new Date(m.time),
    reward: m.reward,
    kl: m.kl,
    entropy: m.entropy,
    responseLengthMean: m.responseLengthMean,
    ...(m.judgeGoldAgreement !== undefined ? { judgeGoldAgreement: m.judgeGoldAgreement } : {}),
    mismatchKl: m.mismatchKl,
    masked: {
      ok: BigInt(m.masked.ok),
      abstain: BigInt(m.masked.abstain),
      timeout: BigInt(m.masked.timeout),
      error: BigInt(m.masked.error),
      stale: BigInt(m.masked.stale),
    },
    timings: m.timings,
    policyLoss: m.policyLoss,
    ...(m.valueLoss !== undefined ? { valueLoss: m.valueLoss } : {}),
    gradNorm: m.gradNorm,
    clipFraction: m.clipFraction,
    stalenessMean: m.stalenessMean,
    learningRate: m.learningRate,
    judgeHackingSuspected: m.judgeHackingSuspected,
  });
}
