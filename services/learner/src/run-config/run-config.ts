import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { VerdictError } from '@verdict/runtime';
import { FieldChecker } from './field-checker.js';

export type Algorithm = 'grpo' | 'ppo';
export type StalenessPolicy = 'drop' | 'importance-correct';

export interface ModelRefConfig {
  /** Model id (provenance, WeightsPublished.model_id). */
  readonly modelId: string;
  /** Hugging Face model folder (the learner loads it; empty for the judge, which judge-server owns). */
  readonly dir: string;
}

export interface DataSourceConfig {
  /** `toy` (generated toy world) or a suite name of @verdict/data (`gsm8k-train`, ...). */
  readonly name: string;
  /** Toy: `id` | `ood`; suites: informational. */
  readonly split: string;
  /** false = every problem of this source goes to the unlabeled pool (gold never used). */
  readonly labeled: boolean;
  /** Relative weight within its pool (used when a pool mixes sources). */
  readonly weight: number;
  /** At most this many problems; 0 = all (toy: 0 = 1000). */
  readonly limit: number;
}

export interface SourceRoutingConfig {
  readonly verifiable: boolean;
  readonly judge: boolean;
  readonly rerank: boolean;
}

export interface RewardRunConfig {
  readonly lambdaVr: number;
  readonly muJudge: number;
  readonly rhoRerank: number;
  readonly labeled: SourceRoutingConfig;
  readonly unlabeled: SourceRoutingConfig;
  readonly judgeTemplateName: string;
  readonly judgeTimeoutMs: number;
  readonly judgeAbstainBand: number;
}

export interface SamplingConfig {
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly maxNewTokens: number;
  readonly stopStrings: readonly string[];
}

/** A run: parsed and validated from ONE JSON file (or the StartRun message, which mirrors it). */
export interface RunConfig {
  readonly runId: string;
  readonly student: ModelRefConfig;
  /** Frozen KL reference; defaults to the student's initial weights. */
  readonly reference: ModelRefConfig;
  readonly judge: ModelRefConfig;
  readonly data: {
    readonly sources: readonly DataSourceConfig[];
    /** Labeled:unlabeled questions per step (and the split of the pool by partitionLabeled). */
    readonly labeledRatio: { readonly labeled: number; readonly unlabeled: number };
    readonly seed: number;
  };
  readonly reward: RewardRunConfig;
  readonly algorithm: Algorithm;
  /** Questions per step. */
  readonly promptsPerStep: number;
  /** Samples per question (G). */
  readonly groupSize: number;
  /** Samples per optimizer update (promptsPerStep·groupSize must divide by it). */
  readonly minibatchSize: number;
  /** Samples per forward/backward (gradients accumulated up to the minibatch). */
  readonly microBatchSize: number;
  readonly epochsPerStep: number;
  readonly learningRate: number;
  readonly klCoef: number;
  readonly clipEpsilon: number;
  readonly maxGradNorm: number;
  /** Max accepted policy-version lag of a sample (0 = strictly on-policy). */
  readonly stalenessBound: number;
  readonly stalenessPolicy: StalenessPolicy;
  readonly sampling: SamplingConfig;
  readonly evalEverySteps: number;
  readonly evalSuites: readonly string[];
  readonly checkpointEverySteps: number;
  readonly maxSteps: number;
  readonly seed: number;
  /** How long a step waits for its scored rollouts before training on what it has. */
  readonly stepTimeoutMs: number;
  readonly gamma: number;
  readonly gaeLambda: number;
  readonly valueCoef: number;
}

const TOP_KEYS = [
  'runId',
  'student',
  'reference',
  'judge',
  'data',
  'reward',
  'algorithm',
  'promptsPerStep',
  'groupSize',
  'minibatchSize',
  'microBatchSize',
  'epochsPerStep',
  'learningRate',
  'klCoef',
  'clipEpsilon',
  'maxGradNorm',
  'stalenessBound',
  'stalenessPolicy',
  'sampling',
  'evalEverySteps',
  'evalSuites',
  'checkpointEverySteps',
  'maxSteps',
  'seed',
  'stepTimeoutMs',
  'gamma',
  'gaeLambda',
  'valueCoef',
] as const;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function modelRef(
  c: FieldChecker,
  raw: unknown,
  field: string,
  opts: { dirRequired: boolean },
): ModelRefConfig {
  const o = c.object(raw, field);
  c.known(o, field, ['modelId', 'dir']);
  const dir = c.string(o, 'dir', field, opts.dirRequired ? { minLength: 1 } : { default: '' });
  const modelId = c.string(o, 'modelId', field, {
    default: dir === '' ? '' : (dir.split('/').filter(Boolean).pop() ?? ''),
  });
  if (!opts.dirRequired && modelId === '' && dir === '')
    c.problem(`${field}.modelId`, 'is required (string)');
  return { modelId, dir };
}

function routing(
  c: FieldChecker,
  raw: unknown,
  field: string,
  def: SourceRoutingConfig,
): SourceRoutingConfig {
  const o = c.object(raw, field);
  c.known(o, field, ['verifiable', 'judge', 'rerank']);
  return {
    verifiable: c.bool(o, 'verifiable', field, def.verifiable),
    judge: c.bool(o, 'judge', field, def.judge),
    rerank: c.bool(o, 'rerank', field, def.rerank),
  };
}

/**
 * Validates a parsed run config. Every problem is reported in one INVALID_ARGUMENT whose message
 * names each field and its limit. `baseDir` resolves relative model dirs (the config file's folder).
 */
export function parseRunConfig(raw: unknown, options: { baseDir?: string } = {}): RunConfig {
  const c = new FieldChecker();
  const o = c.object(raw, 'config');
  c.known(o, '', TOP_KEYS);
  const runId = c.string(o, 'runId', '', { default: '' });
  if (runId !== '' && !RUN_ID.test(runId)) c.problem('runId', `must match ${RUN_ID.source}`);
  const abs = (dir: string) =>
    dir === '' || isAbsolute(dir) || options.baseDir === undefined ? dir : resolve(options.baseDir, dir);
  const studentRaw = modelRef(c, o['student'], 'student', { dirRequired: true });
  const student = { ...studentRaw, dir: abs(studentRaw.dir) };
  const reference =
    o['reference'] === undefined
      ? student
      : (() => {
          const r = modelRef(c, o['reference'], 'reference', { dirRequired: true });
          return { ...r, dir: abs(r.dir) };
        })();
  const judge = modelRef(c, o['judge'], 'judge', { dirRequired: false });

  const d = c.object(o['data'], 'data');
  c.known(d, 'data', ['sources', 'labeledRatio', 'seed']);
  const sources = c.array(d, 'sources', 'data', { minItems: 1 }).map((s, i): DataSourceConfig => {
    const f = `data.sources[${i}]`;
    const so = c.object(s, f);
    c.known(so, f, ['name', 'split', 'labeled', 'weight', 'limit']);
    const name = c.string(so, 'name', f, { minLength: 1 });
    const split = c.string(so, 'split', f, { default: name === 'toy' ? 'id' : 'train' });
    if (name === 'toy' && split !== 'id' && split !== 'ood')
      c.problem(`${f}.split`, 'must be id or ood for toy');
    return {
      name,
      split,
      labeled: c.bool(so, 'labeled', f, true),
      weight: c.number(so, 'weight', f, { default: 1, greaterThan: 0 }),
      limit: c.int(so, 'limit', f, { default: 0, min: 0, max: 10_000_000 }),
    };
  });
  const lr = c.object(d['labeledRatio'], 'data.labeledRatio');
  c.known(lr, 'data.labeledRatio', ['labeled', 'unlabeled']);
  const labeledRatio = {
    labeled: c.int(lr, 'labeled', 'data.labeledRatio', { default: 1, min: 0, max: 1000 }),
    unlabeled: c.int(lr, 'unlabeled', 'data.labeledRatio', { default: 0, min: 0, max: 1000 }),
  };
  if (labeledRatio.labeled + labeledRatio.unlabeled === 0) {
    c.problem('data.labeledRatio', 'labeled + unlabeled must be >= 1');
  }
  const seed = c.int(o, 'seed', '', { default: 0, min: 0, max: 2 ** 32 - 1 });
  const dataSeed = c.int(d, 'seed', 'data', { default: seed, min: 0, max: 2 ** 32 - 1 });

  const r = c.object(o['reward'], 'reward');
  c.known(r, 'reward', [
    'lambdaVr',
    'muJudge',
    'rhoRerank',
    'labeled',
    'unlabeled',
    'judgeTemplateName',
    'judgeTimeoutMs',
    'judgeAbstainBand',
  ]);
  const lambdaVr = c.number(r, 'lambdaVr', 'reward', { default: 1, min: 0, max: 1 });
  const muJudge = c.number(r, 'muJudge', 'reward', { default: 0, min: 0, max: 1 });
  const rhoRerank = c.number(r, 'rhoRerank', 'reward', { default: 0, min: 0, max: 1 });
  if (Math.abs(lambdaVr + muJudge + rhoRerank - 1) > 1e-9) {
    c.problem(
      'reward',
      `lambdaVr + muJudge + rhoRerank must sum to 1 (got ${lambdaVr + muJudge + rhoRerank})`,
    );
  }
  const reward: RewardRunConfig = {
    lambdaVr,
    muJudge,
    rhoRerank,
    labeled: routing(c, r['labeled'], 'reward.labeled', {
      verifiable: lambdaVr > 0,
      judge: muJudge > 0,
      rerank: rhoRerank > 0,
    }),
    unlabeled: routing(c, r['unlabeled'], 'reward.unlabeled', {
      verifiable: false,
      judge: muJudge > 0,
      rerank: rhoRerank > 0,
    }),
    judgeTemplateName: c.string(r, 'judgeTemplateName', 'reward', { default: '' }),
    judgeTimeoutMs: c.int(r, 'judgeTimeoutMs', 'reward', { default: 10_000, min: 1, max: 600_000 }),
    judgeAbstainBand: c.number(r, 'judgeAbstainBand', 'reward', { default: 0, min: 0, max: 0.5 }),
  };
  if (labeledRatio.unlabeled > 0 && !reward.unlabeled.judge && !reward.unlabeled.rerank) {
    c.problem(
      'reward.unlabeled',
      'unlabeled questions need the judge or rerank term (muJudge or rhoRerank > 0)',
    );
  }

  const algorithm = c.string(o, 'algorithm', '', { default: 'grpo', oneOf: ['grpo', 'ppo'] }) as Algorithm;
  const promptsPerStep = c.int(o, 'promptsPerStep', '', { default: 8, min: 1, max: 4096 });
  const groupSize = c.int(o, 'groupSize', '', { default: 4, min: 1, max: 256 });
  if (algorithm === 'grpo' && groupSize < 2) c.problem('groupSize', 'GRPO needs groupSize >= 2');
  const samples = promptsPerStep * groupSize;
  const minibatchSize = c.int(o, 'minibatchSize', '', { default: samples, min: 1, max: 65_536 });
  if (minibatchSize > 0 && samples % minibatchSize !== 0) {
    c.problem(
      'minibatchSize',
      `promptsPerStep*groupSize = ${samples} must be divisible by it (got ${minibatchSize})`,
    );
  }
  const microBatchSize = c.int(o, 'microBatchSize', '', { default: minibatchSize, min: 1, max: 65_536 });
  if (microBatchSize > 0 && minibatchSize % microBatchSize !== 0) {
    c.problem(
      'microBatchSize',
      `minibatchSize = ${minibatchSize} must be divisible by it (got ${microBatchSize})`,
    );
  }
  const s = c.object(o['sampling'], 'sampling');
  c.known(s, 'sampling', ['temperature', 'topP', 'topK', 'maxNewTokens', 'stopStrings']);
  const sampling: SamplingConfig = {
    temperature: c.number(s, 'temperature', 'sampling', { default: 1, min: 0, max: 10 }),
    topP: c.number(s, 'topP', 'sampling', { default: 1, min: 0, max: 1 }),
    topK: c.int(s, 'topK', 'sampling', { default: 0, min: 0, max: 1_000_000 }),
    maxNewTokens: c.int(s, 'maxNewTokens', 'sampling', { default: 128, min: 1, max: 32_768 }),
    stopStrings: c.array(s, 'stopStrings', 'sampling', { default: [] }).map((x, i) => {
      if (typeof x !== 'string' || x === '')
        c.problem(`sampling.stopStrings[${i}]`, 'must be a non-empty string');
      return String(x);
    }),
  };
  if (sampling.temperature === 0 && algorithm === 'grpo' && groupSize > 1) {
    c.problem('sampling.temperature', 'must be > 0 for GRPO (greedy samples make every group identical)');
  }
  const evalSuites = c.array(o, 'evalSuites', '', { default: [] }).map((x, i) => {
    if (typeof x !== 'string' || x === '') c.problem(`evalSuites[${i}]`, 'must be a non-empty string');
    return String(x);
  });
  const config: RunConfig = {
    runId,
    student,
    reference,
    judge,
    data: { sources, labeledRatio, seed: dataSeed },
    reward,
    algorithm,
    promptsPerStep,
    groupSize,
    minibatchSize,
    microBatchSize,
    epochsPerStep: c.int(o, 'epochsPerStep', '', { default: 1, min: 1, max: 64 }),
    learningRate: c.number(o, 'learningRate', '', { default: 1e-5, greaterThan: 0, max: 1 }),
    klCoef: c.number(o, 'klCoef', '', { default: 0, min: 0, max: 100 }),
    clipEpsilon: c.number(o, 'clipEpsilon', '', { default: 0.2, greaterThan: 0, max: 0.99 }),
    maxGradNorm: c.number(o, 'maxGradNorm', '', { default: 1, min: 0 }),
    stalenessBound: c.int(o, 'stalenessBound', '', { default: 0, min: 0, max: 1_000 }),
    stalenessPolicy: c.string(o, 'stalenessPolicy', '', {
      default: 'drop',
      oneOf: ['drop', 'importance-correct'],
    }) as StalenessPolicy,
    sampling,
    evalEverySteps: c.int(o, 'evalEverySteps', '', { default: 0, min: 0 }),
    evalSuites,
    checkpointEverySteps: c.int(o, 'checkpointEverySteps', '', { default: 1, min: 0 }),
    maxSteps: c.int(o, 'maxSteps', '', { default: 100, min: 1, max: 10_000_000 }),
    seed,
    stepTimeoutMs: c.int(o, 'stepTimeoutMs', '', { default: 300_000, min: 100, max: 86_400_000 }),
    gamma: c.number(o, 'gamma', '', { default: 1, min: 0, max: 1 }),
    gaeLambda: c.number(o, 'gaeLambda', '', { default: 0.95, min: 0, max: 1 }),
    valueCoef: c.number(o, 'valueCoef', '', { default: 0.5, min: 0 }),
  };
  c.throwIfAny('run config');
  return config;
}

/** Reads and validates a run config file (JSON). Relative model dirs resolve against its folder. */
export function loadRunConfigFile(path: string): RunConfig {
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
