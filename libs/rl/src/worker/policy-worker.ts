import { createSessionPool, createTensor, type PooledSession, type Tensor } from '@verdict/graph';
import {
  type CausalLmConfig,
  encodeSafetensors,
  loadModelConfig,
  loadModelWeights,
  modelWeightMap,
} from '@verdict/models';
import type { AdamWState } from '../optim/adamw.js';
import type { ParamMap } from '../optim/param-map.js';
import { loadTrainingCheckpoint } from '../training/checkpoint.js';
import { createReferencePolicy, type ReferencePolicy } from '../training/reference-policy.js';
import { positionIdsFor, type TrainBatch } from '../training/train-batch.js';
import { createTrainer, type Trainer } from '../training/trainer.js';
import {
  type TrainingLossSpec,
  trainableShapes,
  VALUE_HEAD_BIAS,
  VALUE_HEAD_WEIGHT,
} from '../training/training-graph.js';
import { buildScoringGraph } from './scoring-graph.js';
import {
  type PolicyWorkerConfig,
  type PolicyWorkerOptions,
  PolicyWorkerOptionsError,
  resolvePolicyWorkerOptions,
} from './worker-options.js';

/** Token ids and masks of one micro-batch ([batchSize, seqLen] row-major; position t predicts targets[t]). */
export type TokenBatch = Omit<TrainBatch, 'tokenInputs'>;

/** What `score` gives for every position of a batch at the current parameters. */
export interface ScoreResult {
  readonly logprobs: Float32Array;
  readonly entropy: Float32Array;
  /** V_t, when the worker has a value head. */
  readonly values?: Float32Array;
}

/** One micro-batch of an update with its per-token inputs (each [batchSize*seqLen], 0 off the loss mask). */
export interface UpdateMicroBatch extends TokenBatch {
  readonly advantages: ArrayLike<number>;
  /**
   * log π_old (the ratio's denominator): from `score` before the step's first update, or the
   * rollout engine's log-probs (no scoring pass; see `UpdateResult.logprobs` for the mismatch).
   */
  readonly behaviourLogprobs: ArrayLike<number>;
  /** log π_ref; required when the KL is in the loss with β > 0. */
  readonly refLogprobs?: ArrayLike<number>;
  /** log μ of the rollout engine; required with truncated IS. */
  readonly rolloutLogprobs?: ArrayLike<number>;
  /** Value head: V_old from `score`, and the GAE returns. */
  readonly oldValues?: ArrayLike<number>;
  readonly returns?: ArrayLike<number>;
}

export interface UpdateResult {
  /** Optimizer updates applied so far (after this one). */
  readonly step: number;
  /** The learning rate this update used. */
  readonly lr: number;
  readonly loss: number;
  readonly policyLoss: number;
  readonly clipFraction: number;
  /** Clipped value loss (value head only). */
  readonly valueLoss?: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** True when the gradient was not finite and no update was applied. */
  readonly skipped: boolean;
  /** Loss-mask tokens of the update. */
  readonly tokens: number;
  /** Every scalar the training graph reports (means over the micro-batches). */
  readonly metrics: Readonly<Record<string, number>>;
  /**
   * Per micro-batch (in order), log π_θ [batchSize*seqLen] from the update's own forward, at the
   * parameters before this update: for the step's first update they are what `score` would give.
   */
  readonly logprobs: readonly Float32Array[];
  /** Per micro-batch, the token entropy at the same parameters (`entropyMetric` or `entropyCoef` ≠ 0). */
  readonly entropy?: readonly Float32Array[];
}

/**
 * The actor/ref worker of a policy-gradient run (verl's shape): it owns the session pool, the
 * trainer, the frozen reference and the forward-only scoring graph; the controller owns the data,
 * the advantages and the schedule of calls.
 */
export interface PolicyWorker {
  /** The validated options. */
  readonly config: PolicyWorkerConfig;
  /** The model folder's config, of whichever registered family its model_type names. */
  readonly modelConfig: CausalLmConfig;
  /** The live parameters (HF names, + `v_head.*` with a value head); updated in place by `update`. */
  readonly params: ParamMap;
  /** Optimizer updates applied so far. */
  readonly step: number;
  /** log π, entropy (and V) at every position under the current parameters. */
  score(batch: TokenBatch): Promise<ScoreResult>;
  /** log π_ref at every position (loads the reference on first use). */
  referenceLogprobs(batch: TokenBatch): Promise<Float32Array>;
  /** One optimizer update over the micro-batches (gradients averaged, clipped, scheduled LR, AdamW). */
  update(microBatches: readonly UpdateMicroBatch[]): Promise<UpdateResult>;
  /** The model's weights as a `model.safetensors` file's bytes (HF names, no value head), in memory. */
  weights(): Uint8Array;
  /** Writes a checkpoint folder (HF model + AdamW state + value head + trainer_state.json with `extra`). */
  save(dir: string, extra?: Record<string, unknown>): void;
  /** Continues from a checkpoint folder (params + AdamW state); returns its `extra`. */
  load(dir: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

function int64(b: TokenBatch, data: ArrayLike<number>): Tensor {
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i]!);
  return createTensor('int64', [b.batchSize, b.seqLen], out);
}

function lossSpec(c: PolicyWorkerConfig): TrainingLossSpec {
  const p = c.policyLoss;
  return {
    kind: 'policy',
    policy: {
      clipLow: p.clipLow,
      clipHigh: p.clipHigh,
      // With placement 'reward' the caller put β·KL into the token rewards; the loss has none.
      klCoef: c.kl.placement === 'loss' ? c.kl.coef : 0,
      klEstimator: c.kl.estimator,
      entropyCoef: p.entropyCoef,
      aggregation: p.aggregation,
      ...(p.truncatedIs ? { truncatedIs: p.truncatedIs } : {}),
    },
    ...(p.entropyMetric ? { entropyMetric: true } : {}),
    ...(c.valueHead
      ? {
          valueHead: { clipRange: c.valueHead.clipRange, coef: c.valueHead.coef, aggregation: p.aggregation },
        }
      : {}),
  };
}

type ResumeState = { readonly params: ParamMap; readonly optimizer?: AdamWState };

/**
 * Builds a worker from options (validated by `resolvePolicyWorkerOptions`; a bad field throws
 * `PolicyWorkerOptionsError`). Deterministic for a fixed thread count: a worker resumed from a
 * checkpoint takes the same next update, bit for bit, as the one that wrote it.
 */
export function createPolicyWorker(options: PolicyWorkerOptions): PolicyWorker {
  const config = resolvePolicyWorkerOptions(options);
  const modelConfig = loadModelConfig(config.modelDir);
  const resume: ResumeState | undefined =
    typeof options.resume === 'string' ? loadTrainingCheckpoint(options.resume) : options.resume;
  const spec = lossSpec(config);
  const { execution } = config;
  // Pool-level defaults reach every session loaded into it (training, scoring, reference). With two
  // or more threads the pool gets a second worker, and scoring and the reference run there and on the
  // first one single-threaded, side by side (`score` and `referenceLogprobs` of a batch may be awaited
  // together): on small matmuls two single-threaded sessions beat one two-threaded one, as for decoding.
  const sideBySide = execution.intraOpThreads >= 2;
  const forwardOnly = sideBySide ? { intraOpThreads: 1 } : {};
  const pool = createSessionPool({
    workers: sideBySide ? 2 : 1,
    intraOpThreadsPerWorker: execution.intraOpThreads,
    ...(execution.executionProvider ? { executionProvider: execution.executionProvider } : {}),
    ...(execution.executionProviderFallback
      ? { executionProviderFallback: execution.executionProviderFallback }
      : {}),
  });
  const { optimizer: o } = config;
  const makeTrainer = (state: ResumeState | undefined): Trainer =>
    createTrainer({
      config: modelConfig,
      params: state?.params ?? loadModelWeights(config.modelDir, modelConfig),
      loss: spec,
      schedule: config.lrSchedule,
      optimizer: { beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay: o.weightDecay },
      maxGradNorm: o.maxGradNorm,
      pool,
      ...(state?.optimizer ? { optimizerState: state.optimizer } : {}),
    });
  let trainer = makeTrainer(resume);
  let reference: ReferencePolicy | undefined;
  let scorer: Promise<PooledSession> | undefined;
  const shapes = trainableShapes(modelConfig, true);

  async function score(b: TokenBatch): Promise<ScoreResult> {
    scorer ??= pool.load(buildScoringGraph(modelConfig, { values: config.valueHead !== null }), forwardOnly);
    const s = await scorer;
    const tokens: Record<string, () => Tensor> = {
      input_ids: () => int64(b, b.inputIds),
      attention_mask: () => int64(b, b.attentionMask),
      position_ids: () => int64(b, b.positionIds ?? positionIdsFor(b.batchSize, b.seqLen, b.attentionMask)),
      targets: () => int64(b, b.targets),
    };
    const feeds: Record<string, Tensor> = {};
    // Only the graph's own inputs: a family that numbers positions from the mask (OPT) may have no position_ids.
    for (const name of s.inputNames) {
      const token = tokens[name];
      if (token) {
        feeds[name] = token();
        continue;
      }
      const p = trainer.params.get(name);
      if (p === undefined) throw new Error(`scoring graph input ${name} has no parameter`);
      // A copy: the pool transfers (detaches) feed buffers.
      feeds[name] = createTensor('float32', shapes.get(name) ?? [p.length], p.slice());
    }
    const out = await s.run(feeds);
    return {
      logprobs: out['logprobs']!.data as Float32Array,
      entropy: out['entropy']!.data as Float32Array,
      ...(out['values'] ? { values: out['values'].data as Float32Array } : {}),
    };
  }

  function tokenInputs(mb: UpdateMicroBatch, i: number): Record<string, ArrayLike<number>> {
    const need = (value: ArrayLike<number> | undefined, field: string, why: string) => {
      if (value === undefined)
        throw new PolicyWorkerOptionsError(`update[${i}].${field}`, `is required ${why}`);
      return value;
    };
    const inputs: Record<string, ArrayLike<number>> = {
      advantages: mb.advantages,
      behaviour_logprobs: mb.behaviourLogprobs,
    };
    if (spec.kind === 'policy' && (spec.policy?.klCoef ?? 0) !== 0)
      inputs['ref_logprobs'] = need(mb.refLogprobs, 'refLogprobs', 'when kl.coef > 0 in the loss');
    if (config.policyLoss.truncatedIs)
      inputs['rollout_logprobs'] = need(mb.rolloutLogprobs, 'rolloutLogprobs', 'with truncated IS');
    if (config.valueHead) {
      inputs['old_values'] = need(mb.oldValues, 'oldValues', 'with a value head');
      inputs['returns'] = need(mb.returns, 'returns', 'with a value head');
    }
    return inputs;
  }

  async function update(microBatches: readonly UpdateMicroBatch[]): Promise<UpdateResult> {
    const batches: TrainBatch[] = microBatches.map((mb, i) => ({
      batchSize: mb.batchSize,
      seqLen: mb.seqLen,
      inputIds: mb.inputIds,
      attentionMask: mb.attentionMask,
      ...(mb.positionIds ? { positionIds: mb.positionIds } : {}),
      targets: mb.targets,
      lossMask: mb.lossMask,
      tokenInputs: tokenInputs(mb, i),
    }));
    const r = await trainer.trainStep(batches);
    const valueLoss = r.metrics['vf_loss'];
    return {
      step: r.step,
      lr: r.lr,
      loss: r.loss,
      policyLoss: r.metrics['pg_loss'] ?? r.loss,
      clipFraction: r.metrics['clip_fraction'] ?? 0,
      ...(valueLoss !== undefined ? { valueLoss } : {}),
      gradNorm: r.gradNorm,
      skipped: r.skipped,
      tokens: r.tokens,
      metrics: r.metrics,
      logprobs: r.logprobs,
      ...(r.entropy ? { entropy: r.entropy } : {}),
    };
  }

  return {
    config,
    modelConfig,
    get params() {
      return trainer.params;
    },
    get step() {
      return trainer.step;
    },
    score,
    async referenceLogprobs(batch) {
      if (reference === undefined) {
        const refConfig = loadModelConfig(config.referenceDir);
        reference = createReferencePolicy(refConfig, loadModelWeights(config.referenceDir, refConfig), {
          pool,
          ...forwardOnly,
        });
      }
      return reference.logprobs(batch);
    },
    update,
    weights() {
      const model = new Map(
        [...trainer.params].filter(([n]) => n !== VALUE_HEAD_WEIGHT && n !== VALUE_HEAD_BIAS),
      );
      return encodeSafetensors(modelWeightMap(modelConfig, model));
    },
    save(dir, extra = {}) {
      trainer.save(dir, { tokenizerFrom: config.modelDir, extra });
    },
    async load(dir) {
      const ckpt = loadTrainingCheckpoint(dir);
      // AdamW state is fixed at creation, so a new trainer takes over (its sessions reload lazily).
      const next = makeTrainer(ckpt);
      const old = trainer;
      trainer = next;
      await old.close();
      return ckpt.extra ?? {};
    },
    async close() {
      const s = scorer;
      scorer = undefined;
      try {
        // A session whose load failed (e.g. provider 'never' without the provider) rejects here;
        // the pool must still close, or its worker thread keeps the process alive.
        await Promise.allSettled([trainer.close(), reference?.close(), s?.then((x) => x.release())]);
      } finally {
        await pool.close();
      }
    },
  };
}
