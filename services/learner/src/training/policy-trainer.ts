import { learnerV1 } from '@verdict/proto';
import {
  type AdamWState,
  computeAdvantages,
  createPolicyWorker,
  type GaeAdvantageInput,
  meanKl,
  type ParamMap,
  type PolicyWorker,
  type PolicyWorkerOptions,
  rolloutMismatchStats,
  type UpdateMicroBatch,
  type UpdateResult,
} from '@verdict/rl';
import type { RowBatch } from '../domain/train-rows.js';
import type { ValidRunConfig } from '../run-config/run-config.js';

/** What one optimizer pass over a step's samples reports. */
export interface TrainOutcome {
  readonly policyLoss: number;
  readonly gradNorm: number;
  readonly clipFraction: number;
  readonly learningRate: number;
  readonly kl: number;
  readonly entropy: number;
  readonly mismatchKl: number;
  readonly mismatchMaxAbsLogprobDiff: number;
  readonly optimizerSteps: number;
  readonly skipped: boolean;
  /** PPO: clipped value loss of the last update. */
  readonly valueLoss?: number;
  /**
   * Mean over the step's updates of the cosine between the gradients of each update's two halves of
   * micro-batches (updates of ≥ 2 micro-batches only): near 0 = the update is mostly sampling noise.
   */
  readonly gradHalvesCosine?: number;
  /**
   * Where the time went: scoring at the current parameters (0 with behaviourLogprobs ROLLOUT: no
   * scoring pass), the frozen reference, the updates.
   */
  readonly phaseMs: { readonly score: number; readonly reference: number; readonly update: number };
}

/**
 * The learner's port to the policy worker (@verdict/rl): train on a step's micro-batches, write a
 * checkpoint folder, hand the weights over. Tests can swap in a fake; the real one is
 * `createPolicyTrainer`.
 */
export interface TrainStep {
  readonly modelConfig: PolicyWorker['modelConfig'];
  /** `minibatches[k]` = the micro-batches of the k-th optimizer update; run `epochs` passes. */
  train(minibatches: readonly (readonly RowBatch[])[], epochs: number): Promise<TrainOutcome>;
  /** Writes model.safetensors + config + optimizer state + trainer_state.json (with `extra`). */
  save(dir: string, extra: Record<string, unknown>): void;
  /** The current weights as model.safetensors bytes, in memory (what a policy-server loads). */
  weights(): Uint8Array;
  close(): Promise<void>;
}

type Execution = NonNullable<PolicyWorkerOptions['execution']>;

export interface PolicyTrainerOptions {
  readonly run: ValidRunConfig;
  /** Resume state (params + AdamW state) from a checkpoint; default: the student's weights. */
  readonly resume?: { readonly params: ParamMap; readonly optimizer?: AdamWState };
  readonly intraOpThreads?: number;
  /** Provider of every session of the run (training, scoring, reference); default 'cpu'. */
  readonly executionProvider?: Execution['executionProvider'];
  /** When the provider is unavailable: 'cpu' (default) or 'never' (the first session load fails). */
  readonly executionProviderFallback?: Execution['executionProviderFallback'];
}

/** What the learner's training needs besides the worker: PPO's GAE options (null for GRPO). */
export interface TrainingOptions {
  readonly worker: PolicyWorkerOptions;
  readonly gae: GaeAdvantageInput['options'] | null;
}

const { Algorithm, BehaviourLogprobs, StalenessPolicy, LrDecay, KlEstimator, LossAggregation } = learnerV1;

/** True when the run takes the rollout engine's log-probs as behaviour log-probs (no scoring pass). */
function rolloutBehaviour(run: ValidRunConfig): boolean {
  return run.behaviourLogprobs === BehaviourLogprobs.BEHAVIOUR_LOGPROBS_ROLLOUT;
}

/**
 * The one place that reads run-config fields for training: the worker's options (loss, KL,
 * value head, AdamW, LR schedule) and PPO's GAE options. The LR schedule counts optimizer updates,
 * so run steps (warm-up, maxSteps) are scaled by the updates a full step makes.
 */
export function trainingOptionsFromRunConfig(
  run: ValidRunConfig,
  execution: Execution = {},
  resume?: PolicyTrainerOptions['resume'],
): TrainingOptions {
  const ppo = run.algorithm === Algorithm.ALGORITHM_PPO;
  const updatesPerStep = ((run.promptsPerStep * run.groupSize) / run.minibatchSize) * run.epochsPerStep;
  const decay =
    run.lrDecay === LrDecay.LR_DECAY_LINEAR
      ? 'linear'
      : run.lrDecay === LrDecay.LR_DECAY_COSINE
        ? 'cosine'
        : 'constant';
  const warmupSteps = run.warmupSteps * updatesPerStep;
  const worker: PolicyWorkerOptions = {
    modelDir: run.student.checkpointUri,
    referenceDir: run.reference.checkpointUri,
    ...(resume ? { resume } : {}),
    policyLoss: {
      clipLow: run.clipEpsilon,
      clipHigh: run.clipEpsilon,
      aggregation:
        run.lossAggregation === LossAggregation.LOSS_AGGREGATION_SEQUENCE_MEAN
          ? 'sequence-mean'
          : 'token-mean',
      // Without a scoring pass the step's entropy comes from the updates' own forwards.
      entropyMetric: rolloutBehaviour(run),
      truncatedIs:
        run.stalenessPolicy === StalenessPolicy.STALENESS_POLICY_IMPORTANCE_CORRECT
          ? { cap: run.isCap, aggregation: 'mean' }
          : null,
    },
    kl: {
      coef: run.klCoef,
      estimator: run.klEstimator === KlEstimator.KL_ESTIMATOR_K1 ? 'k1' : 'k3',
      // PPO puts the KL into the token rewards instead (Ziegler et al. 2019).
      placement: ppo ? 'reward' : 'loss',
      metric: true,
    },
    valueHead: ppo ? { coef: run.valueCoef, clipRange: run.valueClipRange } : null,
    optimizer: {
      learningRate: run.learningRate,
      beta1: run.adamBeta1,
      beta2: run.adamBeta2,
      weightDecay: run.weightDecay,
      maxGradNorm: run.maxGradNorm,
    },
    lrSchedule: {
      kind: decay,
      warmupSteps,
      minLr: run.learningRate * run.minLrRatio,
      ...(decay !== 'constant'
        ? { totalSteps: Math.max(run.maxSteps * updatesPerStep, warmupSteps + 1) }
        : {}),
    },
    execution,
  };
  // The reward's KL uses k1 (log π − log π_ref), as TRL's PPO and the learner before the worker.
  const gae = ppo
    ? { gamma: run.gamma, lambda: run.gaeLambda, klCoef: run.klCoef, klEstimator: 'k1' as const }
    : null;
  return { worker, gae };
}

/** One micro-batch with its inputs from before any update of the step. */
interface Scored {
  readonly batch: RowBatch;
  /** Behaviour log-probs: `score`'s (RECOMPUTE) or the rollout engine's (ROLLOUT). */
  readonly logprobs: ArrayLike<number>;
  /** PPO: V_old from `score`. */
  readonly values?: Float32Array;
  readonly ref?: Float32Array;
}

/** Token sums of the step's metrics (divided by their token counts at the end). */
class StepSums {
  kl = 0;
  entropy = 0;
  mismatch = 0;
  mismatchMax = 0;
  /** Tokens behind `kl` and `entropy`. */
  tokens = 0;
  /** Tokens behind `mismatch` (ROLLOUT: the first update's only). */
  mismatchTokens = 0;

  addEntropy(entropy: ArrayLike<number>, mask: ArrayLike<number>): void {
    for (let i = 0; i < entropy.length; i++) this.entropy += entropy[i]! * mask[i]!;
  }

  addMismatch(training: ArrayLike<number>, b: RowBatch, n: number): void {
    const mm = rolloutMismatchStats(training, b.rolloutLogprobs, b.lossMask);
    this.mismatch += mm.klK3 * n;
    this.mismatchMax = Math.max(this.mismatchMax, mm.maxAbsLogprobDiff);
    this.mismatchTokens += n;
  }
}

const maskTokens = (b: RowBatch) => b.lossMask.reduce((a, x) => a + x, 0);

/**
 * ROLLOUT: the metrics a scoring pass would have given, from an update's own forwards. Entropy on
 * every update of the first epoch (each minibatch once, at the parameters of its update). The
 * mismatch only on the step's FIRST update: its forward runs before any parameter change, so its
 * log-probs are the training log-probs the rollouts should match; later minibatches see updated
 * parameters, and their difference to the rollouts is learning, not mismatch.
 */
function addUpdateMetrics(sums: StepSums, r: UpdateResult, batches: readonly RowBatch[], first: boolean) {
  batches.forEach((b, j) => {
    const n = maskTokens(b);
    if (n === 0) return;
    const entropy = r.entropy?.[j];
    if (entropy) sums.addEntropy(entropy, b.lossMask);
    if (first) sums.addMismatch(r.logprobs[j]!, b, n);
  });
}

/** The completion-token values of row r (positions where the loss mask is 1). */
function rowTokens(b: RowBatch, r: number, x: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let t = 0; t < b.seqLen; t++) if (b.lossMask[r * b.seqLen + t] === 1) out.push(x[r * b.seqLen + t]!);
  return out;
}

/** PPO: GAE advantages and returns of the whole step, laid back out per micro-batch [B*T]. */
function gaeTargets(scored: readonly Scored[], options: NonNullable<TrainingOptions['gae']>) {
  const sequences: GaeAdvantageInput['sequences'][number][] = [];
  for (const { batch: b, logprobs, ref, values } of scored) {
    for (let r = 0; r < b.batchSize; r++) {
      const lp = rowTokens(b, r, logprobs);
      if (lp.length === 0) continue;
      sequences.push({
        reward: b.rows[r]!.sample.total,
        logprobs: lp,
        ...(ref ? { refLogprobs: rowTokens(b, r, ref) } : {}),
        values: rowTokens(b, r, values!),
        terminal: b.rows[r]!.sample.terminal,
      });
    }
  }
  const out = computeAdvantages('gae', { sequences, options });
  let k = 0;
  return scored.map(({ batch: b }) => {
    const advantages = new Float32Array(b.lossMask.length);
    const returns = new Float32Array(b.lossMask.length);
    for (let r = 0; r < b.batchSize; r++) {
      let j = 0;
      const seq = b.lossMask.subarray(r * b.seqLen, (r + 1) * b.seqLen).some((m) => m === 1) ? k++ : -1;
      if (seq < 0) continue;
      for (let t = 0; t < b.seqLen; t++) {
        const i = r * b.seqLen + t;
        if (b.lossMask[i] !== 1) continue;
        advantages[i] = out.advantages[seq]![j]!;
        returns[i] = out.returns[seq]![j]!;
        j++;
      }
    }
    return { advantages, returns };
  });
}

/**
 * GRPO or PPO through the policy worker. Behaviour log-probs, entropy (and PPO's old values) come
 * from `score` at the current parameters before any update (so the first epoch's ratio is exactly
 * 1), reference log-probs from `referenceLogprobs` (only when the KL or its metric needs them).
 * With behaviourLogprobs ROLLOUT (GRPO only) there is no `score`: the rollout engine's log-probs are
 * the behaviour log-probs (verl/TRL's "rollout log-probs as old log-probs"; the first ratio is then
 * exp(training − rollout log-prob), within the mismatch of 1), and entropy and the mismatch come from
 * the updates' own forwards (`addUpdateMetrics`). With IMPORTANCE_CORRECT the truncated IS weight
 * exp(behaviour − rollout) is then identically 1: the PPO clip on π_θ/μ is the only correction.
 * GRPO: the group advantage (train-rows) on every completion token. PPO: `computeAdvantages('gae')`.
 * Then one worker update per minibatch and epoch.
 */
export function createPolicyTrainer(options: PolicyTrainerOptions): TrainStep {
  const { worker: workerOptions, gae } = trainingOptionsFromRunConfig(
    options.run,
    {
      ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
      ...(options.executionProvider ? { executionProvider: options.executionProvider } : {}),
      ...(options.executionProviderFallback
        ? { executionProviderFallback: options.executionProviderFallback }
        : {}),
    },
    options.resume,
  );
  const worker = createPolicyWorker(workerOptions);
  const { kl, policyLoss } = worker.config;
  const rollout = rolloutBehaviour(options.run);

  /** Behaviour inputs of one micro-batch: `score` (RECOMPUTE) beside the reference, timed. */
  async function prepare(b: RowBatch, sums: StepSums, phaseMs: { score: number; reference: number }) {
    // Side by side (the worker runs them on separate pool workers when it has two): `score` is
    // charged until it resolves, `reference` only for the wait beyond it.
    const t0 = performance.now();
    let scoredAt = t0;
    const [s, ref] = await Promise.all([
      rollout
        ? undefined
        : worker.score(b).then((r) => {
            scoredAt = performance.now();
            return r;
          }),
      kl.needsReference ? worker.referenceLogprobs(b) : undefined,
    ]);
    phaseMs.score += scoredAt - t0;
    phaseMs.reference += performance.now() - scoredAt;
    const logprobs = s ? s.logprobs : b.rolloutLogprobs;
    const n = maskTokens(b);
    if (n > 0) {
      // ROLLOUT: the KL metric is the behaviour (rollout) policy's, as RECOMPUTE's is the scored one's.
      if (ref) sums.kl += meanKl(logprobs, ref, b.lossMask).k3 * n;
      if (s) {
        sums.addEntropy(s.entropy, b.lossMask);
        sums.addMismatch(s.logprobs, b, n);
      }
      sums.tokens += n;
    }
    const scored: Scored = {
      batch: b,
      logprobs,
      ...(s?.values ? { values: s.values } : {}),
      ...(ref ? { ref } : {}),
    };
    return scored;
  }

  return {
    modelConfig: worker.modelConfig,
    async train(minibatches, epochs) {
      const sums = new StepSums();
      const phaseMs = { score: 0, reference: 0, update: 0 };
      const scored: Scored[][] = [];
      for (const mbs of minibatches) {
        const list: Scored[] = [];
        for (const b of mbs) list.push(await prepare(b, sums, phaseMs));
        scored.push(list);
      }
      const targets = gae ? gaeTargets(scored.flat(), gae) : undefined;
      let k = 0;
      const prepared: UpdateMicroBatch[][] = scored.map((list) =>
        list.map(({ batch: b, logprobs, ref, values }) => {
          const t = targets?.[k++];
          return {
            ...b,
            advantages: t ? t.advantages : b.advantages,
            behaviourLogprobs: logprobs,
            ...(ref ? { refLogprobs: ref } : {}),
            ...(policyLoss.truncatedIs ? { rolloutLogprobs: b.rolloutLogprobs } : {}),
            ...(t ? { oldValues: values!, returns: t.returns } : {}),
          };
        }),
      );
      let last = {
        policyLoss: 0,
        gradNorm: 0,
        clipFraction: 0,
        learningRate: worker.config.optimizer.learningRate,
        skipped: true,
        valueLoss: undefined as number | undefined,
      };
      let steps = 0;
      let cosineSum = 0;
      let cosines = 0;
      const updateStart = performance.now();
      for (let e = 0; e < epochs; e++) {
        for (const [m, ready] of prepared.entries()) {
          const r = await worker.update(ready);
          if (rollout && e === 0) addUpdateMetrics(sums, r, minibatches[m]!, m === 0);
          steps++;
          const cos = r.metrics['grad_halves_cosine'];
          if (cos !== undefined && Number.isFinite(cos)) {
            cosineSum += cos;
            cosines++;
          }
          last = {
            policyLoss: r.policyLoss,
            gradNorm: r.gradNorm,
            clipFraction: r.clipFraction,
            learningRate: r.lr,
            skipped: r.skipped,
            valueLoss: r.valueLoss,
          };
        }
      }
      phaseMs.update = performance.now() - updateStart;
      const per = (x: number, n = sums.tokens) => (n === 0 ? 0 : x / n);
      const { valueLoss, ...rest } = last;
      return {
        ...rest,
        ...(valueLoss !== undefined ? { valueLoss } : {}),
        kl: per(sums.kl),
        entropy: per(sums.entropy),
        mismatchKl: per(sums.mismatch, sums.mismatchTokens),
        mismatchMaxAbsLogprobDiff: sums.mismatchMax,
        optimizerSteps: steps,
        ...(cosines > 0 ? { gradHalvesCosine: cosineSum / cosines } : {}),
        phaseMs,
      };
    },
    save: (dir, extra) => worker.save(dir, extra),
    weights: () => worker.weights(),
    close: () => worker.close(),
  };
}
