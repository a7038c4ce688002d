import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSessionPool, createTensor, type PooledSession, type Tensor } from '@verdict/graph';
import {
  type LlamaFamilyConfig,
  llamaWeightShapes,
  loadLlamaFamilyConfig,
  loadLlamaWeights,
} from '@verdict/models';
import {
  type AdamWState,
  buildLogprobGraph,
  createReferencePolicy,
  createTrainer,
  meanKl,
  type ParamMap,
  positionIdsFor,
  rolloutMismatchStats,
  type TrainBatch,
  type TrainingLossSpec,
} from '@verdict/rl';
import type { RowBatch } from '../domain/train-rows.js';
import type { RunConfig } from '../run-config/run-config.js';

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
}

/**
 * The learner's port to the Training engine (@verdict/rl Trainer): train on a step's micro-batches,
 * write a checkpoint folder, expose the weights bytes. Tests can swap in a fake; the real one is
 * `createPolicyTrainer`.
 */
export interface TrainStep {
  readonly modelConfig: LlamaFamilyConfig;
  /** `minibatches[k]` = the micro-batches of the k-th optimizer update; run `epochs` passes. */
  train(minibatches: readonly (readonly RowBatch[])[], epochs: number): Promise<TrainOutcome>;
  /** Writes model.safetensors + config + optimizer state + trainer_state.json (with `extra`). */
  save(dir: string, extra: Record<string, unknown>): void;
  close(): Promise<void>;
}

export interface PolicyTrainerOptions {
  readonly run: RunConfig;
  /** Resume state (params + AdamW state) from a checkpoint; default: the student's weights. */
  readonly resume?: { readonly params: ParamMap; readonly optimizer?: AdamWState };
  readonly intraOpThreads?: number;
}

function toTrainBatch(b: RowBatch, tokenInputs: Record<string, ArrayLike<number>>): TrainBatch {
  return {
    batchSize: b.batchSize,
    seqLen: b.seqLen,
    inputIds: b.inputIds,
    attentionMask: b.attentionMask,
    targets: b.targets,
    lossMask: b.lossMask,
    tokenInputs,
  };
}

function ids(b: RowBatch, data: ArrayLike<number>): Tensor {
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i]!);
  return createTensor('int64', [b.batchSize, b.seqLen], out);
}

/**
 * GRPO on the Training engine: behaviour log-probs and entropy from a forward-only graph at the
 * current parameters (so the first epoch's ratio is exactly 1), reference log-probs from the frozen
 * reference (the KL metric is always reported; it enters the loss only when klCoef > 0), the
 * mismatch between rollout and training log-probs via `rolloutMismatchStats`, then one Trainer step
 * per minibatch.
 */
export function createPolicyTrainer(options: PolicyTrainerOptions): TrainStep {
  const { run } = options;
  const config = loadLlamaFamilyConfig(run.student.dir);
  const studentParams = options.resume?.params ?? loadLlamaWeights(run.student.dir, config);
  const referenceConfig = loadLlamaFamilyConfig(run.reference.dir);
  const referenceParams = loadLlamaWeights(run.reference.dir, referenceConfig);
  const threads = options.intraOpThreads ?? 1;
  const pool = createSessionPool({ workers: 1, intraOpThreadsPerWorker: threads });
  const importanceCorrect = run.stalenessPolicy === 'importance-correct';
  const loss: TrainingLossSpec = {
    kind: 'policy',
    policy: {
      clipLow: run.clipEpsilon,
      clipHigh: run.clipEpsilon,
      klCoef: run.klCoef,
      klEstimator: 'k3',
      ...(importanceCorrect ? { truncatedIs: { cap: 2, aggregation: 'mean' as const } } : {}),
    },
  };
  const trainer = createTrainer({
    config,
    params: studentParams,
    loss,
    schedule: { kind: 'constant', peakLr: run.learningRate },
    optimizer: { weightDecay: 0 },
    maxGradNorm: run.maxGradNorm,
    pool,
    ...(options.resume?.optimizer ? { optimizerState: options.resume.optimizer } : {}),
  });
  const reference = createReferencePolicy(referenceConfig, referenceParams, { pool });
  const shapes = llamaWeightShapes(config);
  let scorer: Promise<PooledSession> | undefined;

  /** log π and entropy of every position at the current parameters. */
  async function score(b: RowBatch): Promise<{ logprobs: Float32Array; entropy: Float32Array }> {
    scorer ??= pool.load(buildLogprobGraph(config, undefined, { entropy: true }));
    const s = await scorer;
    const feeds: Record<string, Tensor> = {
      input_ids: ids(b, b.inputIds),
      attention_mask: ids(b, b.attentionMask),
      position_ids: ids(b, positionIdsFor(b.batchSize, b.seqLen, b.attentionMask)),
      targets: ids(b, b.targets),
      loss_mask: createTensor('float32', [b.batchSize, b.seqLen], Float32Array.from(b.lossMask)),
    };
    for (const name of s.inputNames) {
      if (name in feeds) continue;
      const p = trainer.params.get(name);
      if (p === undefined) throw new Error(`scoring graph input ${name} has no parameter`);
      feeds[name] = createTensor('float32', shapes.get(name) ?? [p.length], p.slice());
    }
    const out = await s.run(feeds);
    return { logprobs: out['logprobs']!.data as Float32Array, entropy: out['entropy']!.data as Float32Array };
  }

  return {
    modelConfig: config,
    async train(minibatches, epochs) {
      let klSum = 0;
      let entropySum = 0;
      let mismatchSum = 0;
      let mismatchMax = 0;
      let tokens = 0;
      let last = {
        policyLoss: 0,
        gradNorm: 0,
        clipFraction: 0,
        learningRate: run.learningRate,
        skipped: true,
      };
      let steps = 0;
      const prepared: TrainBatch[][] = [];
      // Behaviour log-probs are fixed for the whole step (PPO's π_old), computed before any update.
      for (const mbs of minibatches) {
        const ready: TrainBatch[] = [];
        for (const b of mbs) {
          const { logprobs, entropy } = await score(b);
          const refBatch = toTrainBatch(b, {});
          const ref = await reference.logprobs(refBatch);
          const n = b.lossMask.reduce((a, x) => a + x, 0);
          if (n > 0) {
            klSum += meanKl(logprobs, ref, b.lossMask).k3 * n;
            let e = 0;
            for (let i = 0; i < entropy.length; i++) e += entropy[i]! * b.lossMask[i]!;
            entropySum += e;
            const mm = rolloutMismatchStats(logprobs, b.rolloutLogprobs, b.lossMask);
            mismatchSum += mm.klK3 * n;
            mismatchMax = Math.max(mismatchMax, mm.maxAbsLogprobDiff);
            tokens += n;
          }
          const inputs: Record<string, ArrayLike<number>> = {
            advantages: b.advantages,
            behaviour_logprobs: logprobs,
          };
          if (run.klCoef !== 0) inputs['ref_logprobs'] = ref;
          if (importanceCorrect) inputs['rollout_logprobs'] = b.rolloutLogprobs;
          ready.push(toTrainBatch(b, inputs));
        }
        prepared.push(ready);
      }
      for (let e = 0; e < epochs; e++) {
        for (const ready of prepared) {
          const r = await trainer.trainStep(ready);
          steps++;
          last = {
            policyLoss: r.metrics['pg_loss'] ?? r.loss,
            gradNorm: r.gradNorm,
            clipFraction: r.metrics['clip_fraction'] ?? 0,
            learningRate: r.lr,
            skipped: r.skipped,
          };
        }
      }
      const per = (x: number) => (tokens === 0 ? 0 : x / tokens);
      return {
        ...last,
        kl: per(klSum),
        entropy: per(entropySum),
        mismatchKl: per(mismatchSum),
        mismatchMaxAbsLogprobDiff: mismatchMax,
        optimizerSteps: steps,
      };
    },
    save(dir, extra) {
      trainer.save(dir, { tokenizerFrom: run.student.dir, extra });
    },
    async close() {
      await trainer.close();
      await reference.close();
      await pool.close();
    },
  };
}

/** The safetensors bytes of a checkpoint folder's model (what policy-servers load). */
export function readCheckpointWeights(dir: string): Buffer {
  return readFileSync(join(dir, 'model.safetensors'));
}
