import { learnerV1 } from '@verdict/proto';
import { parseRunConfig, type RunConfig } from './run-config.js';

const ALGO_TO_WIRE = {
  grpo: learnerV1.Algorithm.ALGORITHM_GRPO,
  ppo: learnerV1.Algorithm.ALGORITHM_PPO,
} as const;

/** The StartRun message for a run config (fields the contract lacks keep their defaults on the way back). */
export function runConfigToProto(config: RunConfig): learnerV1.RunConfig {
  const judgeTimeoutMs = config.reward.judgeTimeoutMs;
  return learnerV1.RunConfig.fromPartial({
    runId: config.runId,
    student: { modelId: config.student.modelId, checkpointUri: config.student.dir },
    reference: { modelId: config.reference.modelId, checkpointUri: config.reference.dir },
    judge: { modelId: config.judge.modelId, checkpointUri: config.judge.dir },
    dataMix: config.data.sources.map((s) => ({
      name: s.name,
      split: s.split,
      labeled: s.labeled,
      weight: s.weight,
      limit: BigInt(s.limit),
    })),
    labeledRatio: config.data.labeledRatio,
    reward: {
      weights: {
        lambdaVr: config.reward.lambdaVr,
        muJudge: config.reward.muJudge,
        rhoRerank: config.reward.rhoRerank,
      },
      labeled: config.reward.labeled,
      unlabeled: config.reward.unlabeled,
      judgeTemplateName: config.reward.judgeTemplateName,
      judgeTimeout: {
        seconds: BigInt(Math.floor(judgeTimeoutMs / 1000)),
        nanos: (judgeTimeoutMs % 1000) * 1_000_000,
      },
      judgeAbstainBand: config.reward.judgeAbstainBand,
    },
    algorithm: ALGO_TO_WIRE[config.algorithm],
    promptsPerStep: config.promptsPerStep,
    groupSize: config.groupSize,
    minibatchSize: config.minibatchSize,
    epochsPerStep: config.epochsPerStep,
    learningRate: config.learningRate,
    klCoef: config.klCoef,
    clipEpsilon: config.clipEpsilon,
    stalenessBound: BigInt(config.stalenessBound),
    stalenessPolicy:
      config.stalenessPolicy === 'drop'
        ? learnerV1.StalenessPolicy.STALENESS_POLICY_DROP
        : learnerV1.StalenessPolicy.STALENESS_POLICY_IMPORTANCE_CORRECT,
    rolloutSampling: {
      temperature: config.sampling.temperature,
      topP: config.sampling.topP,
      topK: config.sampling.topK,
      maxNewTokens: config.sampling.maxNewTokens,
      stopStrings: [...config.sampling.stopStrings],
    },
    evalEverySteps: BigInt(config.evalEverySteps),
    evalSuites: [...config.evalSuites],
    checkpointEverySteps: BigInt(config.checkpointEverySteps),
    maxSteps: BigInt(config.maxSteps),
    seed: BigInt(config.seed),
    gamma: config.gamma,
    gaeLambda: config.gaeLambda,
    valueCoef: config.valueCoef,
  });
}

/** proto3 zero means "unset": leave the key out so the file schema's default applies. */
function nz<T>(v: T, zero: T): T | undefined {
  return v === zero ? undefined : v;
}

function num(v: bigint): number | undefined {
  return v === 0n ? undefined : Number(v);
}

/**
 * A StartRun config → the file schema → the same validation as a config file, so gRPC callers get
 * INVALID_ARGUMENT naming the field exactly as a bad file would.
 */
export function runConfigFromProto(wire: learnerV1.RunConfig): RunConfig {
  const algorithm =
    wire.algorithm === learnerV1.Algorithm.ALGORITHM_PPO
      ? 'ppo'
      : wire.algorithm === learnerV1.Algorithm.ALGORITHM_GRPO
        ? 'grpo'
        : 'unspecified';
  const r = wire.reward;
  const judgeTimeoutMs =
    r?.judgeTimeout === undefined
      ? undefined
      : Number(r.judgeTimeout.seconds) * 1000 + Math.round(r.judgeTimeout.nanos / 1e6);
  const raw: Record<string, unknown> = {
    runId: wire.runId,
    student: { modelId: wire.student?.modelId || undefined, dir: wire.student?.checkpointUri ?? '' },
    ...(wire.reference?.checkpointUri
      ? { reference: { modelId: wire.reference.modelId || undefined, dir: wire.reference.checkpointUri } }
      : {}),
    judge: { modelId: wire.judge?.modelId ?? '', dir: wire.judge?.checkpointUri || undefined },
    data: {
      sources: wire.dataMix.map((s) => ({
        name: s.name,
        split: s.split || undefined,
        labeled: s.labeled,
        weight: nz(s.weight, 0),
        limit: num(s.limit),
      })),
      ...(wire.labeledRatio ? { labeledRatio: wire.labeledRatio } : {}),
    },
    ...(r
      ? {
          reward: {
            lambdaVr: r.weights?.lambdaVr ?? 0,
            muJudge: r.weights?.muJudge ?? 0,
            rhoRerank: r.weights?.rhoRerank ?? 0,
            ...(r.labeled ? { labeled: r.labeled } : {}),
            ...(r.unlabeled ? { unlabeled: r.unlabeled } : {}),
            judgeTemplateName: r.judgeTemplateName,
            judgeTimeoutMs: judgeTimeoutMs || undefined,
            judgeAbstainBand: r.judgeAbstainBand,
          },
        }
      : {}),
    algorithm,
    promptsPerStep: nz(wire.promptsPerStep, 0),
    groupSize: nz(wire.groupSize, 0),
    minibatchSize: nz(wire.minibatchSize, 0),
    epochsPerStep: nz(wire.epochsPerStep, 0),
    learningRate: nz(wire.learningRate, 0),
    klCoef: wire.klCoef,
    clipEpsilon: nz(wire.clipEpsilon, 0),
    stalenessBound: Number(wire.stalenessBound),
    stalenessPolicy:
      wire.stalenessPolicy === learnerV1.StalenessPolicy.STALENESS_POLICY_IMPORTANCE_CORRECT
        ? 'importance-correct'
        : 'drop',
    ...(wire.rolloutSampling
      ? {
          sampling: {
            temperature: wire.rolloutSampling.temperature,
            topP: nz(wire.rolloutSampling.topP, 0),
            topK: wire.rolloutSampling.topK,
            maxNewTokens: nz(wire.rolloutSampling.maxNewTokens, 0),
            stopStrings: wire.rolloutSampling.stopStrings,
          },
        }
      : {}),
    evalEverySteps: Number(wire.evalEverySteps),
    evalSuites: wire.evalSuites,
    checkpointEverySteps: num(wire.checkpointEverySteps),
    maxSteps: num(wire.maxSteps),
    seed: Number(wire.seed),
    gamma: nz(wire.gamma, 0),
    gaeLambda: nz(wire.gaeLambda, 0),
    valueCoef: nz(wire.valueCoef, 0),
  };
  return parseRunConfig(JSON.parse(JSON.stringify(raw)));
}
