import {
  createSessionPool,
  createTensor,
  type PooledSession,
  type SessionPool,
  type Tensor,
} from '@verdict/graph';
import type { CausalLmConfig } from '@verdict/models';
import type { LossAggregation } from '../losses/aggregate.js';
import { type AdamW, type AdamWConfig, type AdamWState, createAdamW } from '../optim/adamw.js';
import { clipGradNorm, globalGradNorm } from '../optim/clip-grad-norm.js';
import { createGradAccumulator } from '../optim/grad-accumulator.js';
import { halvesCosine } from '../optim/gradient-agreement.js';
import { createLrSchedule, type LrScheduleConfig } from '../optim/lr-schedule.js';
import type { ParamMap } from '../optim/param-map.js';
import { type SaveCheckpointOptions, saveTrainingCheckpoint } from './checkpoint.js';
import { batchFeeds, type TrainBatch } from './train-batch.js';
import {
  buildLogprobGraph,
  buildTrainingGraph,
  type TrainingLossSpec,
  trainableShapes,
  VALUE_HEAD_BIAS,
  VALUE_HEAD_WEIGHT,
  valueHeadWidth,
} from './training-graph.js';

export interface TrainerOptions {
  /** Any registered family with a training part (Llama, OPT, ...); see `modelTrainingFor`. */
  readonly config: CausalLmConfig;
  /** Initial parameters by HF name (copied; the trainer owns its copy). */
  readonly params: ParamMap;
  readonly loss: TrainingLossSpec;
  readonly schedule: LrScheduleConfig;
  readonly optimizer?: AdamWConfig;
  /** Global-norm clipping threshold; 0 or Infinity disables. Default 1. */
  readonly maxGradNorm?: number;
  /** Share a session pool; default: the trainer owns a one-worker pool. */
  readonly pool?: SessionPool;
  /** ORT intra-op threads of the training session (default 1). */
  readonly intraOpThreads?: number;
  /** Resume: the optimizer state of a checkpoint (its step drives the schedule). */
  readonly optimizerState?: AdamWState;
}

export interface MicroBatchResult {
  readonly loss: number;
  readonly metrics: Record<string, number>;
  readonly grads: ParamMap;
  /** Per-token log π_θ of the targets [batch*seq]. */
  readonly logprobs: Float32Array;
  /** Per-token PPO ratio (policy losses only). */
  readonly ratio?: Float32Array;
  /** Per-token entropy [batch*seq] (policy losses with an entropy bonus or `entropyMetric`). */
  readonly entropy?: Float32Array;
}

export interface StepResult {
  /** Optimizer steps applied so far (after this one). */
  readonly step: number;
  readonly lr: number;
  /** The update's loss: micro-batch losses weighted by their share (`microBatchWeight`). */
  readonly loss: number;
  /** The micro-batch metrics, weighted alike. */
  readonly metrics: Record<string, number>;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** True when the gradient was not finite and no update was applied. */
  readonly skipped: boolean;
  /** Σ loss_mask over the micro-batches. */
  readonly tokens: number;
  /** Wall time of the micro-batches' session runs (feeds, forward, backward, fetch). */
  readonly forwardBackwardMs: number;
  /** Wall time of accumulation, clipping and the AdamW update. */
  readonly optimizerMs: number;
  /**
   * Per micro-batch (in order), log π_θ of the targets [batch*seq] from its forward, i.e. at the
   * parameters BEFORE this update: a controller can use the first update's as behaviour log-probs
   * without a separate scoring pass.
   */
  readonly logprobs: readonly Float32Array[];
  /** Per micro-batch, the token entropy at the same parameters (when the loss computes it). */
  readonly entropy?: readonly Float32Array[];
}

export interface Trainer {
  readonly config: CausalLmConfig;
  readonly loss: TrainingLossSpec;
  /** The live parameters (updated in place by each step). */
  readonly params: ParamMap;
  /** Optimizer steps applied so far. */
  readonly step: number;
  /** Forward + backward of one micro-batch at the current parameters (no update). */
  forwardBackward(batch: TrainBatch): Promise<MicroBatchResult>;
  /**
   * One optimizer step over the micro-batches: accumulate (each weighted by its share of the loss's
   * tokens, or rows for sequence-mean), clip, schedule, AdamW.
   */
  trainStep(microBatches: readonly TrainBatch[]): Promise<StepResult>;
  /** Per-token log-probs of the targets under the current parameters (forward-only graph). */
  logprobs(batch: TrainBatch): Promise<Float32Array>;
  exportOptimizerState(): AdamWState;
  /** Writes a checkpoint (HF model folder + optimizer state + `extra`); see `saveTrainingCheckpoint`. */
  save(dir: string, options?: SaveCheckpointOptions & { readonly extra?: Record<string, unknown> }): void;
  close(): Promise<void>;
}

function scalar(out: Record<string, Tensor>, name: string): number {
  const t = out[name];
  if (t === undefined) throw new Error(`training graph returned no ${name}`);
  return Number(t.data[0]);
}

/** Adds a zero-initialised value head when the loss needs one and the params lack it. */
function withValueHead(config: CausalLmConfig, params: ParamMap, spec: TrainingLossSpec): ParamMap {
  const out: ParamMap = new Map();
  for (const [name] of trainableShapes(config, false)) {
    const p = params.get(name);
    if (p === undefined) throw new RangeError(`trainer: params lack ${name}`);
    out.set(name, p.slice());
  }
  if (spec.kind === 'policy' && spec.valueHead) {
    out.set(
      VALUE_HEAD_WEIGHT,
      params.get(VALUE_HEAD_WEIGHT)?.slice() ?? new Float32Array(valueHeadWidth(config)),
    );
    out.set(VALUE_HEAD_BIAS, params.get(VALUE_HEAD_BIAS)?.slice() ?? new Float32Array(1));
  }
  return out;
}

/** What a loss spec averages over: its tokens (token-mean, the default) or its non-empty rows. */
export function lossAggregation(spec: TrainingLossSpec): LossAggregation {
  return (spec.kind === 'sft' ? spec.aggregation : spec.policy?.aggregation) ?? 'token-mean';
}

/**
 * A micro-batch's weight in its update: its loss-mask tokens (token-mean) or rows with at least one
 * (sequence-mean). Weighting each micro-batch mean by it makes the update's mean over all of them.
 */
export function microBatchWeight(batch: TrainBatch, aggregation: LossAggregation): number {
  const { lossMask, batchSize, seqLen } = batch;
  let weight = 0;
  for (let b = 0; b < batchSize; b++) {
    let rowTokens = 0;
    for (let t = 0; t < seqLen; t++) rowTokens += lossMask[b * seqLen + t]!;
    weight += aggregation === 'token-mean' ? rowTokens : rowTokens > 0 ? 1 : 0;
  }
  return weight;
}

/**
 * The training loop's engine: one ORT session of the training graph (forward → log-probs → loss →
 * backward) in a pool worker, fed the parameter map each micro-batch; AdamW, clipping, the LR
 * schedule and accumulation run here in JS (libs/rl/src/optim). Deterministic for a fixed thread
 * count, so a run resumed from `exportOptimizerState()` + params continues bit-identically.
 */
export function createTrainer(options: TrainerOptions): Trainer {
  const { config, loss: spec } = options;
  const params = withValueHead(config, options.params, spec);
  const optimizer: AdamW = createAdamW(params, options.optimizer, options.optimizerState);
  const schedule = createLrSchedule(options.schedule);
  const maxGradNorm = options.maxGradNorm ?? 1;
  const ownPool = options.pool === undefined;
  const pool =
    options.pool ?? createSessionPool({ workers: 1, intraOpThreadsPerWorker: options.intraOpThreads ?? 1 });
  const loadOpts = options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads };
  const graph = buildTrainingGraph(config, spec);
  let trainSession: Promise<PooledSession> | undefined;
  let scoreSession: Promise<PooledSession> | undefined;
  const accumulator = createGradAccumulator(params);
  const aggregation = lossAggregation(spec);

  const shapes = trainableShapes(config, true);

  /** Feeds the session's inputs: the batch plus fresh parameter copies (the pool transfers, i.e. detaches, feed buffers). */
  async function run(session: PooledSession, batch: TrainBatch, tokenInputs: readonly string[]) {
    const all = batchFeeds(batch, tokenInputs);
    const feeds: Record<string, Tensor> = {};
    for (const name of session.inputNames) {
      const p = params.get(name);
      const t = p ? createTensor('float32', shapes.get(name) ?? [p.length], p.slice()) : all[name];
      if (t === undefined) throw new Error(`no feed for graph input ${name}`);
      feeds[name] = t;
    }
    return session.run(feeds);
  }

  async function forwardBackward(batch: TrainBatch): Promise<MicroBatchResult> {
    trainSession ??= pool.load(graph.model, loadOpts);
    const out = await run(await trainSession, batch, graph.tokenInputs);
    const grads: ParamMap = new Map();
    for (const name of params.keys()) {
      const t = out[graph.gradOutputs.get(name) ?? ''];
      if (t === undefined) throw new Error(`training graph returned no gradient for ${name}`);
      grads.set(name, t.data as Float32Array);
    }
    const metrics: Record<string, number> = {};
    for (const m of graph.metricNames) metrics[m] = scalar(out, m);
    return {
      loss: scalar(out, 'loss'),
      metrics,
      grads,
      logprobs: out['logprobs']!.data as Float32Array,
      ...(out['ratio'] ? { ratio: out['ratio'].data as Float32Array } : {}),
      ...(out['token_entropy'] ? { entropy: out['token_entropy'].data as Float32Array } : {}),
    };
  }

  async function trainStep(microBatches: readonly TrainBatch[]): Promise<StepResult> {
    if (microBatches.length === 0) throw new RangeError('trainStep needs at least one micro-batch');
    accumulator.reset();
    let lossSum = 0;
    let tokens = 0;
    const metricSums: Record<string, number> = {};
    let forwardBackwardMs = 0;
    let optimizerMs = 0;
    // With two or more micro-batches, the sum of the first half's gradients (for grad_halves_cosine).
    const half = microBatches.length >= 2 ? Math.floor(microBatches.length / 2) : 0;
    const firstHalf = half > 0 ? createGradAccumulator(params) : undefined;
    // Each micro-batch weighs its share of what the loss averages over, so the update's loss is the
    // same however it was split: a micro-batch's token mean (sequence mean) counts by its tokens (rows).
    const weights = microBatches.map((mb) => microBatchWeight(mb, aggregation));
    const total = weights.reduce((a, b) => a + b, 0);
    const share = total > 0 ? weights.map((w) => w / total) : weights.map(() => 1 / microBatches.length);
    const logprobs: Float32Array[] = [];
    const entropy: Float32Array[] = [];
    for (const [k, mb] of microBatches.entries()) {
      const t0 = performance.now();
      const r = await forwardBackward(mb);
      const t1 = performance.now();
      accumulator.add(r.grads, share[k]);
      if (k < half) firstHalf?.add(r.grads, share[k]);
      optimizerMs += performance.now() - t1;
      forwardBackwardMs += t1 - t0;
      logprobs.push(r.logprobs);
      if (r.entropy) entropy.push(r.entropy);
      lossSum += share[k]! * r.loss;
      for (const [name, v] of Object.entries(r.metrics))
        metricSums[name] = (metricSums[name] ?? 0) + share[k]! * v;
      for (let i = 0; i < mb.lossMask.length; i++) tokens += mb.lossMask[i]!;
    }
    const t2 = performance.now();
    // Shares sum to 1: the weighted sum is the update's gradient.
    const grads = accumulator.finish(1);
    // Before clipping: `grads` is the whole update's sum, the first half is part of it.
    const halvesCos = firstHalf === undefined ? undefined : halvesCosine(firstHalf.finish(1), grads, 1);
    const gradNorm =
      maxGradNorm > 0 && Number.isFinite(maxGradNorm)
        ? clipGradNorm(grads, maxGradNorm)
        : globalGradNorm(grads);
    const lr = schedule(optimizer.step);
    const skipped = !Number.isFinite(gradNorm);
    if (!skipped) optimizer.update(params, grads, lr);
    optimizerMs += performance.now() - t2;
    const metrics: Record<string, number> = { ...metricSums };
    if (halvesCos !== undefined) metrics['grad_halves_cosine'] = halvesCos;
    return {
      step: optimizer.step,
      lr,
      loss: lossSum,
      metrics,
      gradNorm,
      skipped,
      tokens,
      forwardBackwardMs,
      optimizerMs,
      logprobs,
      ...(entropy.length === microBatches.length ? { entropy } : {}),
    };
  }

  async function logprobs(batch: TrainBatch): Promise<Float32Array> {
    scoreSession ??= pool.load(buildLogprobGraph(config, undefined), loadOpts);
    const out = await run(await scoreSession, batch, []);
    return out['logprobs']!.data as Float32Array;
  }

  return {
    config,
    loss: spec,
    params,
    get step() {
      return optimizer.step;
    },
    forwardBackward,
    trainStep,
    logprobs,
    exportOptimizerState: () => optimizer.exportState(),
    save(dir, saveOptions = {}) {
      saveTrainingCheckpoint(
        dir,
        { config, params, optimizer: optimizer.exportState(), extra: saveOptions.extra ?? {} },
        saveOptions,
      );
    },
    async close() {
      const sessions = [trainSession, scoreSession].filter((s) => s !== undefined);
      trainSession = undefined;
      scoreSession = undefined;
      if (ownPool) await pool.close();
      else await Promise.all(sessions.map(async (s) => (await s).release()));
    },
  };
}
