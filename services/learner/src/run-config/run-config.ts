import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { commonV1, durationPb, learnerV1, rewardV1 } from '@verdict/proto';
import { VerdictError } from '@verdict/runtime';
import { checkJsonShape, FieldChecker, type JsonShape, type MessageFns } from './field-checker.js';
import { checkRunConfigSizes } from './run-config-limits.js';

/** Every field present (proto3 `optional` and message fields filled with their defaults). */
type Filled<T> = { readonly [K in keyof T]-?: Exclude<T[K], undefined> };

declare const validRunConfig: unique symbol;

/** `RunConfig.reward` with weights, routing and judge timeout filled in. */
export type ValidRewardConfig = Filled<rewardV1.RewardConfig>;

/**
 * A `learnerV1.RunConfig` that passed `validateRunConfig`: every default filled in (no
 * UNSPECIFIED enums, no absent `optional` or message fields), every bound checked, relative
 * checkpoint URIs resolved. It is the proto message itself (assignable to `learnerV1.RunConfig`),
 * branded so only the validator makes one.
 */
export type ValidRunConfig = Filled<Omit<learnerV1.RunConfig, 'reward' | 'dataMix'>> & {
  readonly dataMix: Filled<learnerV1.DataSource>[];
  readonly reward: ValidRewardConfig;
  readonly [validRunConfig]: true;
};

const { Algorithm, BehaviourLogprobs, StalenessPolicy, LrDecay, KlEstimator, LossAggregation } = learnerV1;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const U32_MAX = 2 ** 32 - 1;

/** The message-typed fields of RunConfig, for the JSON key check (`checkJsonShape`). */
const fns = <T>(f: MessageFns<T>) => f as MessageFns<unknown>;
const MODEL: JsonShape = { fns: fns(learnerV1.ModelSpec) };
const RUN_CONFIG_SHAPE: JsonShape = {
  fns: fns(learnerV1.RunConfig),
  messages: {
    student: MODEL,
    reference: MODEL,
    judge: MODEL,
    dataMix: { fns: fns(learnerV1.DataSource) },
    labeledRatio: { fns: fns(learnerV1.LabeledRatio) },
    reward: {
      fns: fns(rewardV1.RewardConfig),
      messages: {
        weights: { fns: fns(rewardV1.RewardWeights) },
        labeled: { fns: fns(rewardV1.SourceRouting) },
        unlabeled: { fns: fns(rewardV1.SourceRouting) },
        judgeTimeout: { fns: fns(durationPb.Duration) },
      },
    },
    rolloutSampling: { fns: fns(commonV1.SamplingParams) },
  },
};

function durationMs(d: durationPb.Duration): number {
  return Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
}

/** An enum field: UNSPECIFIED (0) takes the default; a number the enum does not name is a problem. */
function enumValue<E extends number>(
  c: FieldChecker,
  field: string,
  v: E,
  def: E,
  values: Readonly<Record<string, string | number>>,
): E {
  if (v === 0) return def;
  if (v < 0 || typeof values[v] !== 'string') {
    const names = Object.entries(values).filter(([, n]) => typeof n === 'number' && n > 0);
    c.problem(field, `must be one of ${names.map(([k]) => k).join(', ')} (got ${v})`);
  }
  return v;
}

function modelSpec(
  c: FieldChecker,
  spec: learnerV1.ModelSpec | undefined,
  field: string,
  resolveUri: (uri: string) => string,
  uriRequired: boolean,
): learnerV1.ModelSpec {
  const uri = spec?.checkpointUri ?? '';
  if (uriRequired && uri === '') c.problem(`${field}.checkpointUri`, 'is required (a model folder)');
  const modelId = spec?.modelId || (uri.split('/').filter(Boolean).pop() ?? '');
  if (!uriRequired && modelId === '') c.problem(`${field}.modelId`, 'is required (string)');
  return { modelId, checkpointUri: uri === '' ? '' : resolveUri(uri) };
}

function rewardConfig(c: FieldChecker, r: rewardV1.RewardConfig | undefined): ValidRewardConfig {
  const w = r?.weights ?? { lambdaVr: 1, muJudge: 0, rhoRerank: 0 };
  for (const k of ['lambdaVr', 'muJudge', 'rhoRerank'] as const)
    c.number(`reward.weights.${k}`, w[k], { min: 0, max: 1 });
  const sum = w.lambdaVr + w.muJudge + w.rhoRerank;
  if (Math.abs(sum - 1) > 1e-9)
    c.problem('reward.weights', `lambdaVr + muJudge + rhoRerank must sum to 1 (got ${sum})`);
  const judgeTimeout = r?.judgeTimeout ?? { seconds: 30n, nanos: 0 };
  const timeoutMs = durationMs(judgeTimeout);
  if (!(timeoutMs >= 1 && timeoutMs <= 600_000))
    c.problem('reward.judgeTimeout', `must be in [1 ms, 600 s] (got ${timeoutMs} ms)`);
  return {
    weights: { lambdaVr: w.lambdaVr, muJudge: w.muJudge, rhoRerank: w.rhoRerank },
    labeled: r?.labeled ?? { verifiable: w.lambdaVr > 0, judge: w.muJudge > 0, rerank: w.rhoRerank > 0 },
    unlabeled: r?.unlabeled ?? { verifiable: false, judge: w.muJudge > 0, rerank: w.rhoRerank > 0 },
    judgeTemplateName: r?.judgeTemplateName ?? '',
    judgeTimeout,
    judgeAbstainBand: c.number('reward.judgeAbstainBand', r?.judgeAbstainBand ?? 0, { min: 0, max: 0.5 }),
    verifiableCheck: verifiableCheck(c, r?.verifiableCheck),
  };
}

function verifiableCheck(c: FieldChecker, v: rewardV1.VerifiableCheck | undefined): rewardV1.VerifiableCheck {
  const known = Object.values(rewardV1.VerifiableCheck).filter((x): x is number => typeof x === 'number');
  const value = v ?? rewardV1.VerifiableCheck.VERIFIABLE_CHECK_UNSPECIFIED;
  if (!known.includes(value) || value === rewardV1.VerifiableCheck.UNRECOGNIZED)
    c.problem(
      'reward.verifiableCheck',
      `must be one of ${known.filter((x) => x >= 0).join(', ')} (got ${value})`,
    );
  return value;
}

/**
 * Validates a run config and fills its defaults (services/learner/README.md lists them). Every
 * problem is reported in one INVALID_ARGUMENT naming each field and its limit. proto3 zero means
 * "unset" except for `optional` fields. `baseDir` resolves relative checkpoint URIs (a config
 * file's folder).
 */
export function validateRunConfig(
  w: learnerV1.RunConfig,
  options: { baseDir?: string } = {},
): ValidRunConfig {
  // Sizes first, before anything reads an item of a repeated field (run-config-limits.ts).
  checkRunConfigSizes(w);
  const c = new FieldChecker();
  if (w.runId !== '' && !RUN_ID.test(w.runId)) c.problem('runId', `must match ${RUN_ID.source}`);
  const resolveUri = (uri: string) =>
    isAbsolute(uri) || options.baseDir === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(uri)
      ? uri
      : resolve(options.baseDir, uri);
  const student = modelSpec(c, w.student, 'student', resolveUri, true);
  const reference =
    w.reference === undefined ? student : modelSpec(c, w.reference, 'reference', resolveUri, true);
  const judge = modelSpec(c, w.judge, 'judge', resolveUri, false);

  if (w.dataMix.length === 0) c.problem('dataMix', 'must have at least 1 item(s)');
  const dataMix = w.dataMix.map((s, i): Filled<learnerV1.DataSource> => {
    const f = `dataMix[${i}]`;
    if (s.name === '') c.problem(`${f}.name`, 'is required (string)');
    const split = s.split || (s.name === 'toy' ? 'id' : 'train');
    if (s.name === 'toy' && split !== 'id' && split !== 'ood')
      c.problem(`${f}.split`, 'must be id or ood for toy');
    return {
      name: s.name,
      split,
      labeled: s.labeled ?? true,
      weight: s.weight === 0 ? 1 : c.number(`${f}.weight`, s.weight, { greaterThan: 0 }),
      limit: c.uint(`${f}.limit`, s.limit, 10_000_000),
    };
  });
  const lr = w.labeledRatio ?? { labeled: 1, unlabeled: 0 };
  const labeledRatio = {
    labeled: c.uint('labeledRatio.labeled', lr.labeled, 1000),
    unlabeled: c.uint('labeledRatio.unlabeled', lr.unlabeled, 1000),
  };
  if (labeledRatio.labeled + labeledRatio.unlabeled === 0)
    c.problem('labeledRatio', 'labeled + unlabeled must be >= 1');
  const seed = c.uint('seed', w.seed, U32_MAX);
  const dataSeed = c.uint('dataSeed', w.dataSeed ?? seed, U32_MAX);

  const reward = rewardConfig(c, w.reward);
  if (labeledRatio.unlabeled > 0 && !reward.unlabeled.judge && !reward.unlabeled.rerank)
    c.problem(
      'reward.unlabeled',
      'unlabeled questions need the judge or rerank term (muJudge or rhoRerank > 0)',
    );

  const algorithm = enumValue(c, 'algorithm', w.algorithm, Algorithm.ALGORITHM_GRPO, Algorithm);
  const grpo = algorithm === Algorithm.ALGORITHM_GRPO;
  const promptsPerStep = c.uint('promptsPerStep', w.promptsPerStep || 8, 4096);
  const groupSize = c.uint('groupSize', w.groupSize || 4, 256);
  if (grpo && groupSize < 2) c.problem('groupSize', 'GRPO needs groupSize >= 2');
  const samples = promptsPerStep * groupSize;
  const minibatchSize = c.uint('minibatchSize', w.minibatchSize || samples, 65_536);
  if (minibatchSize > 0 && samples % minibatchSize !== 0)
    c.problem(
      'minibatchSize',
      `promptsPerStep*groupSize = ${samples} must be divisible by it (got ${minibatchSize})`,
    );
  const microBatchSize = c.uint('microBatchSize', w.microBatchSize || minibatchSize, 65_536);
  if (microBatchSize > 0 && minibatchSize % microBatchSize !== 0)
    c.problem(
      'microBatchSize',
      `minibatchSize = ${minibatchSize} must be divisible by it (got ${microBatchSize})`,
    );

  const s = w.rolloutSampling ?? {
    temperature: 1,
    topP: 1,
    topK: 0,
    maxNewTokens: 128,
    stopTokenIds: [],
    stopStrings: [],
  };
  const rolloutSampling: commonV1.SamplingParams = {
    ...s,
    temperature: c.number('rolloutSampling.temperature', s.temperature, { min: 0, max: 10 }),
    topP: s.topP === 0 ? 1 : c.number('rolloutSampling.topP', s.topP, { min: 0, max: 1 }),
    topK: c.uint('rolloutSampling.topK', s.topK, 1_000_000),
    maxNewTokens: c.uint('rolloutSampling.maxNewTokens', s.maxNewTokens || 128, 32_768),
  };
  s.stopStrings.forEach((x, i) => {
    if (x === '') c.problem(`rolloutSampling.stopStrings[${i}]`, 'must be a non-empty string');
  });
  if (rolloutSampling.temperature === 0 && grpo && groupSize > 1)
    c.problem(
      'rolloutSampling.temperature',
      'must be > 0 for GRPO (greedy samples make every group identical)',
    );
  w.evalSuites.forEach((x, i) => {
    if (x === '') c.problem(`evalSuites[${i}]`, 'must be a non-empty string');
  });

  const stalenessBound = c.uint('stalenessBound', w.stalenessBound, 1_000);
  const maxSteps = c.uint('maxSteps', w.maxSteps || 100, 10_000_000);
  if (w.dynamicSampling && !grpo)
    c.problem('dynamicSampling', 'is GRPO only (it drops groups whose rewards all agree)');
  if (w.generateAhead && stalenessBound < 1)
    c.problem('generateAhead', 'needs stalenessBound >= 1 (its rollouts are one weights version behind)');
  const behaviourLogprobs = enumValue(
    c,
    'behaviourLogprobs',
    w.behaviourLogprobs,
    BehaviourLogprobs.BEHAVIOUR_LOGPROBS_RECOMPUTE,
    BehaviourLogprobs,
  );
  // PPO's old values V_old come out of the same scoring pass that ROLLOUT skips.
  if (behaviourLogprobs === BehaviourLogprobs.BEHAVIOUR_LOGPROBS_ROLLOUT && !grpo)
    c.problem(
      'behaviourLogprobs',
      "BEHAVIOUR_LOGPROBS_ROLLOUT is GRPO only (PPO needs the critic's old values from the scoring pass)",
    );
  const config = {
    runId: w.runId,
    student,
    reference,
    judge,
    dataMix,
    labeledRatio,
    reward,
    algorithm,
    promptsPerStep,
    groupSize,
    minibatchSize,
    epochsPerStep: c.uint('epochsPerStep', w.epochsPerStep || 1, 64),
    learningRate:
      w.learningRate === 0 ? 1e-5 : c.number('learningRate', w.learningRate, { greaterThan: 0, max: 1 }),
    klCoef: c.number('klCoef', w.klCoef, { min: 0, max: 100 }),
    clipEpsilon:
      w.clipEpsilon === 0 ? 0.2 : c.number('clipEpsilon', w.clipEpsilon, { greaterThan: 0, max: 0.99 }),
    stalenessBound,
    stalenessPolicy: enumValue(
      c,
      'stalenessPolicy',
      w.stalenessPolicy,
      StalenessPolicy.STALENESS_POLICY_DROP,
      StalenessPolicy,
    ),
    rolloutSampling,
    evalEverySteps: c.uint('evalEverySteps', w.evalEverySteps),
    evalSuites: [...w.evalSuites],
    maxSteps,
    seed,
    gamma: c.number('gamma', w.gamma ?? 1, { min: 0, max: 1 }),
    gaeLambda: c.number('gaeLambda', w.gaeLambda ?? 0.95, { min: 0, max: 1 }),
    valueCoef: c.number('valueCoef', w.valueCoef ?? 0.5, { min: 0, max: 100 }),
    microBatchSize,
    maxGradNorm: c.number('maxGradNorm', w.maxGradNorm ?? 1, { min: 0 }),
    stepTimeoutMs: c.number('stepTimeoutMs', w.stepTimeoutMs || 300_000, {
      integer: true,
      min: 100,
      max: 86_400_000,
    }),
    dataSeed,
    warmupSteps: c.uint('warmupSteps', w.warmupSteps, 10_000_000),
    lrDecay: enumValue(c, 'lrDecay', w.lrDecay, LrDecay.LR_DECAY_CONSTANT, LrDecay),
    minLrRatio: c.number('minLrRatio', w.minLrRatio, { min: 0, max: 1 }),
    klEstimator: enumValue(c, 'klEstimator', w.klEstimator, KlEstimator.KL_ESTIMATOR_K3, KlEstimator),
    valueClipRange: c.number('valueClipRange', w.valueClipRange ?? 0.2, { greaterThan: 0, max: 100 }),
    isCap: c.number('isCap', w.isCap ?? 2, { min: 1, max: 1000 }),
    lossAggregation: enumValue(
      c,
      'lossAggregation',
      w.lossAggregation,
      LossAggregation.LOSS_AGGREGATION_TOKEN_MEAN,
      LossAggregation,
    ),
    adamBeta1: c.number('adamBeta1', w.adamBeta1 ?? 0.9, { min: 0, lessThan: 1 }),
    adamBeta2: c.number('adamBeta2', w.adamBeta2 ?? 0.999, { min: 0, lessThan: 1 }),
    weightDecay: c.number('weightDecay', w.weightDecay, { min: 0, max: 1 }),
    dynamicSampling: w.dynamicSampling,
    maxSamplingRounds: c.number('maxSamplingRounds', w.maxSamplingRounds || 3, {
      integer: true,
      min: 1,
      max: 100,
    }),
    generateAhead: w.generateAhead,
    behaviourLogprobs,
  } satisfies Omit<ValidRunConfig, typeof validRunConfig>;
  c.throwIfAny('run config');
  return config as ValidRunConfig;
}

/**
 * A run config in the proto3 JSON mapping of `learnerV1.RunConfig` (the run file format):
 * unknown keys, wrong JSON types and unknown enum names are problems, then `validateRunConfig`.
 */
export function parseRunConfig(raw: unknown, options: { baseDir?: string } = {}): ValidRunConfig {
  const c = new FieldChecker();
  if (!checkJsonShape(c, raw, RUN_CONFIG_SHAPE, '')) c.throwIfAny('run config');
  return validateRunConfig(learnerV1.RunConfig.fromJSON(raw), options);
}

/** The run config as a file: the proto3 JSON mapping, which `parseRunConfig` reads back. */
export function runConfigToJson(config: learnerV1.RunConfig): unknown {
  return learnerV1.RunConfig.toJSON(config);
}

/** Reads and validates a run config file (JSON). Relative checkpoint URIs resolve against its folder. */
export function loadRunConfigFile(path: string): ValidRunConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new VerdictError('NOT_FOUND', `run config ${path}: ${(error as Error).message}`, {
      field: 'config',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `run config ${path} is not JSON: ${(error as Error).message}`,
      {
        field: 'config',
      },
    );
  }
  return parseRunConfig(raw, { baseDir: dirname(resolve(path)) });
}
