import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createSessionPool,
  createTensor,
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type PooledSession,
  type Tensor,
} from '@verdict/graph';
import {
  type LlamaFamilyConfig,
  llamaWeightShapes,
  loadLlamaFamilyConfig,
  loadLlamaWeights,
} from '@verdict/models';
import {
  type AdamWState,
  computeGae,
  createReferencePolicy,
  createTrainer,
  meanKl,
  type ParamMap,
  positionIdsFor,
  rolloutMismatchStats,
  shapePpoTokenRewards,
  type TrainBatch,
  type TrainingLossSpec,
  VALUE_HEAD_BIAS,
  VALUE_HEAD_WEIGHT,
  whiten,
} from '@verdict/rl';
import type { RowBatch } from '../domain/train-rows.js';
import type { RunConfig } from '../run-config/run-config.js';
import { buildScoringGraph } from './scoring-graph.js';

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
  /** Provider of every session of the run (training, scoring, reference); default 'cpu'. */
  readonly executionProvider?: ExecutionProvider;
  /** When the provider is unavailable: 'cpu' (default) or 'never' (the first session load fails). */
  readonly executionProviderFallback?: ExecutionProviderFallback;
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

/** What scoring one micro-batch at the current parameters gives (before any update of the step). */
interface Scored {
  readonly batch: RowBatch;
  readonly logprobs: Float32Array;
  readonly ref: Float32Array;
  /** PPO: V_t at every position. */
  readonly values?: Float32Array;
}

/**
 * GRPO or PPO on the Training engine. Behaviour log-probs, entropy (and PPO's old values) come from a
 * forward-only graph at the current parameters (so the first epoch's ratio is exactly 1), reference
 * log-probs from the frozen reference, the rollout/training mismatch from `rolloutMismatchStats`.
 * GRPO: the group advantage on every completion token, KL in the loss when klCoef > 0. PPO: KL in
 * the reward (−β·k1 per token, the sequence reward on the last token), GAE with the value head,
 * advantages whitened over the step, clipped value loss. Then one Trainer step per minibatch and
 * epoch.
 */
export function createPolicyTrainer(options: PolicyTrainerOptions): TrainStep {
  const { run } = options;
  const ppo = run.algorithm === 'ppo';
  const config = loadLlamaFamilyConfig(run.student.dir);
  const studentParams = options.resume?.params ?? loadLlamaWeights(run.student.dir, config);
  const referenceConfig = loadLlamaFamilyConfig(run.reference.dir);
  const referenceParams = loadLlamaWeights(run.reference.dir, referenceConfig);
  const threads = options.intraOpThreads ?? 1;
  // Pool-level defaults reach every session loaded into it, also those @verdict/rl loads.
  const pool = createSessionPool({
    workers: 1,
    intraOpThreadsPerWorker: threads,
    ...(options.executionProvider ? { executionProvider: options.executionProvider } : {}),
    ...(options.executionProviderFallback
      ? { executionProviderFallback: options.executionProviderFallback }
      : {}),
  });
  const importanceCorrect = run.stalenessPolicy === 'importance-correct';
  const loss: TrainingLossSpec = {
    kind: 'policy',
    policy: {
      clipLow: run.clipEpsilon,
      clipHigh: run.clipEpsilon,
      // PPO puts the KL into the token rewards instead (Ziegler et al. 2019).
      klCoef: ppo ? 0 : run.klCoef,
      klEstimator: 'k3',
      ...(importanceCorrect ? { truncatedIs: { cap: 2, aggregation: 'mean' as const } } : {}),
    },
    ...(ppo ? { valueHead: { clipRange: 0.2, coef: run.valueCoef } } : {}),
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
  const shapes = new Map<string, readonly number[]>(llamaWeightShapes(config));
  shapes.set(VALUE_HEAD_WEIGHT, [config.hiddenSize]);
  shapes.set(VALUE_HEAD_BIAS, [1]);
  let scorer: Promise<PooledSession> | undefined;

  /** log π, entropy (and V) of every position at the current parameters. */
  async function score(b: RowBatch) {
    scorer ??= pool.load(buildScoringGraph(config, { values: ppo }));
    const s = await scorer;
    const feeds: Record<string, Tensor> = {
      input_ids: ids(b, b.inputIds),
      attention_mask: ids(b, b.attentionMask),
      position_ids: ids(b, positionIdsFor(b.batchSize, b.seqLen, b.attentionMask)),
      targets: ids(b, b.targets),
    };
    for (const name of s.inputNames) {
      if (name in feeds) continue;
      const p = trainer.params.get(name);
      if (p === undefined) throw new Error(`scoring graph input ${name} has no parameter`);
      feeds[name] = createTensor('float32', shapes.get(name) ?? [p.length], p.slice());
    }
    const out = await s.run(feeds);
    return {
      logprobs: out['logprobs']!.data as Float32Array,
      entropy: out['entropy']!.data as Float32Array,
      ...(out['values'] ? { values: out['values'].data as Float32Array } : {}),
    };
  }

  /** PPO per-token advantages and returns of a whole step (advantages whitened over all its tokens). */
  function ppoTargets(scored: readonly Scored[]): { advantages: Float32Array[]; returns: Float32Array[] } {
    const rawAdv: Float64Array[] = [];
    const rets: Float32Array[] = [];
    for (const { batch: b, logprobs, ref, values } of scored) {
      const adv = new Float64Array(b.lossMask.length);
      const ret = new Float32Array(b.lossMask.length);
      for (let r = 0; r < b.batchSize; r++) {
        const idx: number[] = [];
        for (let t = 0; t < b.seqLen; t++) if (b.lossMask[r * b.seqLen + t] === 1) idx.push(r * b.seqLen + t);
        if (idx.length === 0) continue;
        const row = b.rows[r]!;
        const rewards = shapePpoTokenRewards({
          sequenceReward: row.sample.total,
          klPerToken: idx.map((i) => logprobs[i]! - ref[i]!),
          klCoefficient: run.klCoef,
        });
        const v = idx.map((i) => values![i]!);
        // A truncated completion bootstraps with its last value (V of the next state is not computed).
        const gae = computeGae(
          { rewards, values: v, terminal: row.sample.terminal, bootstrapValue: v[v.length - 1]! },
          { gamma: run.gamma, lambda: run.gaeLambda },
        );
        idx.forEach((i, k) => {
          adv[i] = gae.advantages[k]!;
          ret[i] = gae.returns[k]!;
        });
      }
      rawAdv.push(adv);
      rets.push(ret);
    }
    // Whiten over every completion token of the step at once.
    const flat = Float64Array.from(rawAdv.flatMap((a) => [...a]));
    const mask = Float64Array.from(scored.flatMap((s) => [...s.batch.lossMask]));
    const white = whiten(flat, mask);
    const advantages: Float32Array[] = [];
    let off = 0;
    for (const a of rawAdv) {
      advantages.push(
        Float32Array.from(white.subarray(off, off + a.length), (x, i) => (mask[off + i] === 1 ? x : 0)),
      );
      off += a.length;
    }
    return { advantages, returns: rets };
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
        valueLoss: undefined as number | undefined,
      };
      let steps = 0;
      // Behaviour log-probs (PPO's π_old) and old values are fixed for the whole step, computed
      // before any update.
      const scored: Scored[][] = [];
      for (const mbs of minibatches) {
        const list: Scored[] = [];
        for (const b of mbs) {
          const { logprobs, entropy, values } = await score(b);
          const ref = await reference.logprobs(toTrainBatch(b, {}));
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
          list.push({ batch: b, logprobs, ref, ...(values ? { values } : {}) });
        }
        scored.push(list);
      }
      const targets = ppo ? ppoTargets(scored.flat()) : undefined;
      let k = 0;
      const prepared: TrainBatch[][] = scored.map((list) =>
        list.map(({ batch: b, logprobs, ref, values }) => {
          const inputs: Record<string, ArrayLike<number>> = { behaviour_logprobs: logprobs };
          if (targets) {
            inputs['advantages'] = targets.advantages[k]!;
            inputs['returns'] = targets.returns[k]!;
            inputs['old_values'] = values!;
          } else {
            inputs['advantages'] = b.advantages;
            if (run.klCoef !== 0) inputs['ref_logprobs'] = ref;
          }
          if (importanceCorrect) inputs['rollout_logprobs'] = b.rolloutLogprobs;
          k++;
          return toTrainBatch(b, inputs);
        }),
      );
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
            valueLoss: r.metrics['vf_loss'],
          };
        }
      }
      const per = (x: number) => (tokens === 0 ? 0 : x / tokens);
      const { valueLoss, ...rest } = last;
      return {
        ...rest,
        ...(valueLoss !== undefined ? { valueLoss } : {}),
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
