import type { ExecutionProvider, ExecutionProviderFallback } from '@verdict/graph';
import type { LossAggregation } from '../losses/aggregate.js';
import type { AdamWState } from '../optim/adamw.js';
import type { LrScheduleConfig } from '../optim/lr-schedule.js';
import type { ParamMap } from '../optim/param-map.js';

/**
 * What a policy worker is built from. Every field but `modelDir` and `optimizer.learningRate` has a
 * default; `resolvePolicyWorkerOptions` fills them in and checks every limit, so the worker only
 * ever sees a complete, valid `PolicyWorkerConfig`. Defaults are the learner's behaviour before the
 * worker existed (see the README's table for the reasons and what verl/TRL use).
 */
export interface PolicyWorkerOptions {
  /** Hugging Face model folder of the policy's initial weights (tokenizer files are copied from it into checkpoints). */
  readonly modelDir: string;
  /** Frozen reference π_ref of the KL term; default `modelDir`. Loaded only when the KL is used. */
  readonly referenceDir?: string;
  /** Start from a checkpoint: its folder, or params (+ AdamW state) already in memory. */
  readonly resume?: string | { readonly params: ParamMap; readonly optimizer?: AdamWState };
  readonly policyLoss?: {
    /** ε_low of the ratio clip. Default 0.2. */
    readonly clipLow?: number;
    /** ε_high of the ratio clip (DAPO's clip-higher: 0.28). Default 0.2. */
    readonly clipHigh?: number;
    /** Entropy bonus coefficient. Default 0. */
    readonly entropyCoef?: number;
    /**
     * Compute the token entropy in the update's forward even when `entropyCoef` is 0: metric
     * `entropy` and `UpdateResult.entropy`, not in the loss. For a controller that skips `score`
     * (behaviour log-probs from the rollout engine) and still reports entropy. Default false.
     */
    readonly entropyMetric?: boolean;
    /** 'token-mean' (default; every token of the minibatch weighs the same) or 'sequence-mean'. */
    readonly aggregation?: LossAggregation;
    /** Sequence-level truncated importance correction for rollout/training mismatch; default off (null). */
    readonly truncatedIs?: {
      /** Cap c of min(w, c). Default 2. */
      readonly cap?: number;
      /** 'mean' (default: geometric mean of the token ratios) or 'sum' (the sequence ratio). */
      readonly aggregation?: 'mean' | 'sum';
    } | null;
  };
  readonly kl?: {
    /** β ≥ 0. 0 = no KL term (and no reference run unless `metric`). Default 0. */
    readonly coef?: number;
    /** Estimator of the in-loss KL: 'k1' or 'k3' (low variance, ≥ 0; GRPO). Default 'k3'. */
    readonly estimator?: 'k1' | 'k3';
    /**
     * Where β·KL goes: 'loss' (GRPO: a term of the loss) or 'reward' (PPO, Ziegler et al.: the caller
     * shapes token rewards, see `computeAdvantages('gae')`; the loss gets no KL term). Default 'loss'.
     */
    readonly placement?: 'loss' | 'reward';
    /** Run the reference for the KL metric even when β = 0. Default true. */
    readonly metric?: boolean;
  };
  /** PPO critic: a linear value head trained with a clipped value loss. Absent/null = no value head. */
  readonly valueHead?: {
    /** Weight of the value loss. Default 0.5. */
    readonly coef?: number;
    /** ε_v: V stays within V_old ± ε_v in the clipped branch. Default 0.2. */
    readonly clipRange?: number;
  } | null;
  readonly optimizer: {
    /** Peak learning rate (> 0). */
    readonly learningRate: number;
    /** Default 0.9. */
    readonly beta1?: number;
    /** Default 0.999 (torch); small-scale RL recipes often use 0.99 or 0.95. */
    readonly beta2?: number;
    /** Default 1e-8. */
    readonly epsilon?: number;
    /** Decoupled weight decay (biases and norms excluded). Default 0. */
    readonly weightDecay?: number;
    /** Global-norm clip; 0 disables. Default 1. */
    readonly maxGradNorm?: number;
  };
  /** LR schedule over optimizer updates. Default constant, no warmup. */
  readonly lrSchedule?: {
    readonly kind?: 'constant' | 'linear' | 'cosine';
    /** Linear warmup from lr/warmupSteps up to the peak. Default 0. */
    readonly warmupSteps?: number;
    /** Required for linear/cosine: the update at which `minLr` is reached. */
    readonly totalSteps?: number;
    /** Floor of the decay. Default 0. */
    readonly minLr?: number;
  };
  readonly execution?: {
    /** ORT intra-op threads of every session. Default 1. */
    readonly intraOpThreads?: number;
    /** Default 'cpu'. */
    readonly executionProvider?: ExecutionProvider;
    /** When the provider is unavailable: 'cpu' (default) or 'never' (the first session load fails). */
    readonly executionProviderFallback?: ExecutionProviderFallback;
  };
}

/** The complete, checked configuration a worker runs with. */
export interface PolicyWorkerConfig {
  readonly modelDir: string;
  readonly referenceDir: string;
  readonly policyLoss: {
    readonly clipLow: number;
    readonly clipHigh: number;
    readonly entropyCoef: number;
    readonly entropyMetric: boolean;
    readonly aggregation: LossAggregation;
    readonly truncatedIs: { readonly cap: number; readonly aggregation: 'mean' | 'sum' } | null;
  };
  readonly kl: {
    readonly coef: number;
    readonly estimator: 'k1' | 'k3';
    readonly placement: 'loss' | 'reward';
    readonly metric: boolean;
    /** True when a step needs reference log-probs (β > 0 or the metric). */
    readonly needsReference: boolean;
  };
  readonly valueHead: { readonly coef: number; readonly clipRange: number } | null;
  readonly optimizer: {
    readonly learningRate: number;
    readonly beta1: number;
    readonly beta2: number;
    readonly epsilon: number;
    readonly weightDecay: number;
    readonly maxGradNorm: number;
  };
  readonly lrSchedule: LrScheduleConfig;
  readonly execution: {
    readonly intraOpThreads: number;
    readonly executionProvider?: ExecutionProvider;
    readonly executionProviderFallback?: ExecutionProviderFallback;
  };
}

/** Bad worker options: `field` is the option's path (e.g. `optimizer.beta2`), the message names the limit. */
export class PolicyWorkerOptionsError extends RangeError {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`PolicyWorkerOptions.${field} ${problem}`);
    this.name = 'PolicyWorkerOptionsError';
    this.field = field;
  }
}

function check(ok: boolean, field: string, problem: string, value: unknown): void {
  if (!ok) throw new PolicyWorkerOptionsError(field, `${problem}, got ${JSON.stringify(value)}`);
}

const finite = (x: number) => typeof x === 'number' && Number.isFinite(x);

/** Fills the defaults in and checks every limit; throws `PolicyWorkerOptionsError` naming the first bad field. */
export function resolvePolicyWorkerOptions(options: PolicyWorkerOptions): PolicyWorkerConfig {
  check(
    typeof options.modelDir === 'string' && options.modelDir !== '',
    'modelDir',
    'must be a model folder',
    options.modelDir,
  );
  const pl = options.policyLoss ?? {};
  const clipLow = pl.clipLow ?? 0.2;
  const clipHigh = pl.clipHigh ?? 0.2;
  check(finite(clipLow) && clipLow >= 0 && clipLow < 1, 'policyLoss.clipLow', 'must be in [0, 1)', clipLow);
  check(finite(clipHigh) && clipHigh >= 0, 'policyLoss.clipHigh', 'must be >= 0', clipHigh);
  const entropyCoef = pl.entropyCoef ?? 0;
  check(finite(entropyCoef), 'policyLoss.entropyCoef', 'must be finite', entropyCoef);
  const entropyMetric = pl.entropyMetric ?? false;
  check(typeof entropyMetric === 'boolean', 'policyLoss.entropyMetric', 'must be a boolean', entropyMetric);
  const aggregation = pl.aggregation ?? 'token-mean';
  check(
    aggregation === 'token-mean' || aggregation === 'sequence-mean',
    'policyLoss.aggregation',
    "must be 'token-mean' or 'sequence-mean'",
    aggregation,
  );
  let truncatedIs: PolicyWorkerConfig['policyLoss']['truncatedIs'] = null;
  if (pl.truncatedIs) {
    const cap = pl.truncatedIs.cap ?? 2;
    const agg = pl.truncatedIs.aggregation ?? 'mean';
    check(finite(cap) && cap > 0, 'policyLoss.truncatedIs.cap', 'must be > 0', cap);
    check(
      agg === 'mean' || agg === 'sum',
      'policyLoss.truncatedIs.aggregation',
      "must be 'mean' or 'sum'",
      agg,
    );
    truncatedIs = { cap, aggregation: agg };
  }

  const kl = options.kl ?? {};
  const coef = kl.coef ?? 0;
  check(finite(coef) && coef >= 0, 'kl.coef', 'must be >= 0', coef);
  const estimator = kl.estimator ?? 'k3';
  check(estimator === 'k1' || estimator === 'k3', 'kl.estimator', "must be 'k1' or 'k3'", estimator);
  const placement = kl.placement ?? 'loss';
  check(
    placement === 'loss' || placement === 'reward',
    'kl.placement',
    "must be 'loss' or 'reward'",
    placement,
  );
  const metric = kl.metric ?? true;

  let valueHead: PolicyWorkerConfig['valueHead'] = null;
  if (options.valueHead) {
    const vc = options.valueHead.coef ?? 0.5;
    const clipRange = options.valueHead.clipRange ?? 0.2;
    check(finite(vc) && vc > 0, 'valueHead.coef', 'must be > 0', vc);
    check(finite(clipRange) && clipRange > 0, 'valueHead.clipRange', 'must be > 0', clipRange);
    valueHead = { coef: vc, clipRange };
  }

  const o = options.optimizer ?? ({} as PolicyWorkerOptions['optimizer']);
  const learningRate = o.learningRate;
  check(finite(learningRate) && learningRate > 0, 'optimizer.learningRate', 'must be > 0', learningRate);
  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  const epsilon = o.epsilon ?? 1e-8;
  const weightDecay = o.weightDecay ?? 0;
  const maxGradNorm = o.maxGradNorm ?? 1;
  check(finite(beta1) && beta1 >= 0 && beta1 < 1, 'optimizer.beta1', 'must be in [0, 1)', beta1);
  check(finite(beta2) && beta2 >= 0 && beta2 < 1, 'optimizer.beta2', 'must be in [0, 1)', beta2);
  check(finite(epsilon) && epsilon > 0, 'optimizer.epsilon', 'must be > 0', epsilon);
  check(finite(weightDecay) && weightDecay >= 0, 'optimizer.weightDecay', 'must be >= 0', weightDecay);
  check(
    finite(maxGradNorm) && maxGradNorm >= 0,
    'optimizer.maxGradNorm',
    'must be >= 0 (0 disables)',
    maxGradNorm,
  );

  const s = options.lrSchedule ?? {};
  const kind = s.kind ?? 'constant';
  check(
    kind === 'constant' || kind === 'linear' || kind === 'cosine',
    'lrSchedule.kind',
    "must be 'constant', 'linear' or 'cosine'",
    kind,
  );
  const warmupSteps = s.warmupSteps ?? 0;
  check(
    Number.isInteger(warmupSteps) && warmupSteps >= 0,
    'lrSchedule.warmupSteps',
    'must be an integer >= 0',
    warmupSteps,
  );
  const minLr = s.minLr ?? 0;
  check(
    finite(minLr) && minLr >= 0 && minLr <= learningRate,
    'lrSchedule.minLr',
    `must be in [0, learningRate = ${learningRate}]`,
    minLr,
  );
  if (kind !== 'constant') {
    check(
      Number.isInteger(s.totalSteps) && (s.totalSteps ?? 0) > warmupSteps,
      'lrSchedule.totalSteps',
      `must be an integer > warmupSteps (${warmupSteps}) for ${kind} decay`,
      s.totalSteps,
    );
  }
  const lrSchedule: LrScheduleConfig = {
    kind,
    peakLr: learningRate,
    warmupSteps,
    minLr,
    ...(kind !== 'constant' ? { totalSteps: s.totalSteps! } : {}),
  };

  const e = options.execution ?? {};
  const intraOpThreads = e.intraOpThreads ?? 1;
  check(
    Number.isInteger(intraOpThreads) && intraOpThreads >= 1,
    'execution.intraOpThreads',
    'must be an integer >= 1',
    intraOpThreads,
  );

  return {
    modelDir: options.modelDir,
    referenceDir: options.referenceDir || options.modelDir,
    policyLoss: { clipLow, clipHigh, entropyCoef, entropyMetric, aggregation, truncatedIs },
    kl: { coef, estimator, placement, metric, needsReference: coef > 0 || metric },
    valueHead,
    optimizer: { learningRate, beta1, beta2, epsilon, weightDecay, maxGradNorm },
    lrSchedule,
    execution: {
      intraOpThreads,
      ...(e.executionProvider ? { executionProvider: e.executionProvider } : {}),
      ...(e.executionProviderFallback ? { executionProviderFallback: e.executionProviderFallback } : {}),
    },
  };
}
