// The same Llama SFT training step as the ONNX training graph (embedding, RMSNorm, RoPE in HF
// rotate_half form, causal GQA attention, SwiGLU MLP, tied or untied head, masked token-mean
// cross-entropy, global-norm clipping, AdamW with decoupled decay off norms) written with
// @tensorflow/tfjs on the wasm backend: the baseline the training bench compares ORT against.
// Bench-only code (a devDependency); nothing in src/ imports TF.js (../shared/docs/DESIGN.md §3).
//
// Two wasm-backend constraints shape it (../shared/docs/ort-training-probe.md §4):
// - the Gather gradient needs UnsortedSegmentSum, which wasm lacks, so the embedding gathers in the
//   forward pass and its gradient is a one-hot matmul (custom gradient);
// - TF.js wasm runs single-threaded in Node (no pthread workers), whatever the core count.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type LlamaFamilyConfig, ropeTables } from '@verdict/models';
import { isDefaultNoDecayParam } from '../src/optim/no-decay.js';
import type { ParamMap } from '../src/optim/param-map.js';
import type { TrainBatch } from '../src/training/train-batch.js';

/** The installed @tensorflow/tfjs version, for the bench's output. */
export const tfjsVersion: string = tf.version.tfjs;

let ready: Promise<void> | undefined;

/** Selects the wasm backend with the .wasm binaries read from node_modules (no network). */
export function initTfjsWasm(): Promise<void> {
  ready ??= (async () => {
    const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    // Emscripten in Node reads the prefix + file name with fs: a directory path with a trailing slash.
    setWasmPaths(`${join(dirname(main), '/')}`);
    if (!(await tf.setBackend('wasm'))) throw new Error('TF.js wasm backend failed to initialise');
    await tf.ready();
  })();
  return ready;
}

export interface TfjsTrainerOptions {
  readonly config: LlamaFamilyConfig;
  /** Initial parameters by HF name and layout ([out, in] weights), e.g. the ORT bench's. */
  readonly params: ParamMap;
  readonly batch: TrainBatch;
  readonly lr: number;
  readonly weightDecay?: number;
  readonly maxGradNorm?: number;
}

export interface TfjsTrainer {
  /** One optimizer step on the fixed batch; returns the loss before the update. */
  step(): number;
  dispose(): void;
}

type Var = tf.Variable;

/** Swaps the last two axes. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(x, perm);
}

/**
 * a · b with a gradient that never asks the wasm BatchMatMul for transposeA/transposeB: those
 * paths run ~10–50× slower than the plain one (measured: 1–3.5 vs ~30 GFLOP/s), and TF.js's own
 * MatMul gradient uses them. Explicit Transposes are cheap by comparison.
 */
const matMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      return [tf.matMul(g, swapLast(sb)), tf.matMul(swapLast(sa), g)];
    },
  };
}) as <T extends tf.Tensor>(a: T, b: tf.Tensor) => T;

/** x [N, in] · Wᵀ, W [out, in] (HF layout), as torch's F.linear. */
function linear(x: tf.Tensor2D, w: Var): tf.Tensor2D {
  return matMul(x, swapLast(w));
}

function rmsNorm(x: tf.Tensor2D, w: Var, eps: number): tf.Tensor2D {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** Builds the TF.js model + AdamW over a copy of `params`; the batch stays fixed (a throughput bench). */
export function createTfjsTrainer(options: TfjsTrainerOptions): TfjsTrainer {
  const { config: c, batch } = options;
  const { batchSize: B, seqLen: T } = batch;
  const N = B * T;
  const H = c.numHeads;
  const KvH = c.numKvHeads;
  const D = c.headDim;
  const V = c.vocabSize;
  const eps = c.rmsNormEps;
  const weightDecay = options.weightDecay ?? 0.01;
  const maxGradNorm = options.maxGradNorm ?? 1;

  const vars = new Map<string, Var>();
  for (const [name, data] of options.params) {
    const shape = name.includes('norm') ? [data.length] : shapeOf(c, name);
    vars.set(name, tf.variable(tf.tensor(data.slice(), shape), true, name));
  }
  const get = (name: string): Var => {
    const v = vars.get(name);
    if (v === undefined) throw new Error(`no parameter ${name}`);
    return v;
  };

  // Constants of the fixed batch (kept out of tidy scopes; disposed in dispose()).
  const ids = tf.tensor1d(Int32Array.from(batch.inputIds), 'int32');
  const targetOneHot = tf.oneHot(tf.tensor1d(Int32Array.from(batch.targets), 'int32'), V).asType('float32');
  const lossMask = tf.tensor1d(Float32Array.from(batch.lossMask));
  const maskSum = Math.max(
    1,
    Array.from(batch.lossMask).reduce((a, b) => a + b, 0),
  );
  // Positions: HF cumsum(mask) − 1 (right padding → 0..len−1), padding → 1.
  const pos = new Int32Array(N);
  for (let b = 0; b < B; b++) {
    let p = 0;
    for (let t = 0; t < T; t++) pos[b * T + t] = batch.attentionMask[b * T + t] ? p++ : 1;
  }
  const { cos: cosTable, sin: sinTable } = ropeTables(c, Math.max(T, 2));
  const posT = tf.tensor1d(pos, 'int32');
  const half = D / 2;
  const cosHalf = tf.gather(tf.tensor2d(cosTable, [cosTable.length / half, half]), posT);
  const sinHalf = tf.gather(tf.tensor2d(sinTable, [sinTable.length / half, half]), posT);
  // [B, 1, T, D] so they broadcast over heads.
  const cos = tf.concat([cosHalf, cosHalf], 1).reshape([B, 1, T, D]);
  const sin = tf.concat([sinHalf, sinHalf], 1).reshape([B, 1, T, D]);
  // Additive mask [B, 1, T, T]: causal and key padding.
  const maskData = new Float32Array(B * T * T);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++)
        maskData[(b * T + i) * T + j] = j <= i && batch.attentionMask[b * T + j] ? 0 : -1e9;
  const attnMask = tf.tensor4d(maskData, [B, 1, T, T]);
  const idsOneHotT = tf.transpose(tf.oneHot(ids, V).asType('float32'));

  // Gather forward, one-hot matmul backward (wasm has no UnsortedSegmentSum for Gather's gradient).
  const embed = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    return {
      value: tf.gather(args[0] as tf.Tensor, ids),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.matMul(idsOneHotT, dy as tf.Tensor2D),
    };
  }) as (table: tf.Tensor) => tf.Tensor2D;

  const heads = (x: tf.Tensor2D, n: number): tf.Tensor4D => x.reshape([B, T, n, D]).transpose([0, 2, 1, 3]);
  const rope = (x: tf.Tensor4D): tf.Tensor4D => {
    const [x1, x2] = tf.split(x, 2, 3);
    const rotated = tf.concat([tf.neg(x2 as tf.Tensor4D), x1 as tf.Tensor4D], 3);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
  };
  // GQA without copying k/v: query heads h = kv·rep + r share kv head kv (HF repeat_kv), so q
  // [B, H, T, D] regroups to [B, KvH, rep·T, D] and attends against the KvH heads directly.
  const rep = H / KvH;
  const attention = (q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor2D => {
    const qg = q.reshape([B, KvH, rep * T, D]);
    const scores = tf.mul(matMul(qg, swapLast(k)), 1 / Math.sqrt(D)).reshape([B, H, T, T]);
    const probs = tf.softmax(tf.add(scores, attnMask)).reshape([B, KvH, rep * T, T]);
    return matMul(probs, v)
      .reshape([B, H, T, D])
      .transpose([0, 2, 1, 3])
      .reshape([N, H * D]);
  };

  const lossFn = (): tf.Scalar => {
    const embedTable = get('model.embed_tokens.weight');
    let x = embed(embedTable);
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}.`;
      const xn = rmsNorm(x, get(`${p}input_layernorm.weight`), eps);
      const q = rope(heads(linear(xn, get(`${p}self_attn.q_proj.weight`)), H));
      const k = rope(heads(linear(xn, get(`${p}self_attn.k_proj.weight`)), KvH));
      const v = heads(linear(xn, get(`${p}self_attn.v_proj.weight`)), KvH);
      const ctx = attention(q, k, v);
      x = tf.add(x, linear(ctx, get(`${p}self_attn.o_proj.weight`)));
      const xn2 = rmsNorm(x, get(`${p}post_attention_layernorm.weight`), eps);
      const gate = linear(xn2, get(`${p}mlp.gate_proj.weight`));
      const up = linear(xn2, get(`${p}mlp.up_proj.weight`));
      const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D;
      x = tf.add(x, linear(act, get(`${p}mlp.down_proj.weight`)));
    }
    const xf = rmsNorm(x, get('model.norm.weight'), eps);
    const head = c.tieWordEmbeddings ? embedTable : get('lm_head.weight');
    const logp = tf.logSoftmax(linear(xf, head));
    const tokenLogp = tf.sum(tf.mul(logp, targetOneHot), -1);
    return tf.div(tf.neg(tf.sum(tf.mul(tokenLogp, lossMask))), maskSum) as tf.Scalar;
  };

  const optimizer = tf.train.adam(options.lr, 0.9, 0.999, 1e-8);

  function step(): number {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossFn);
      // Global-norm clipping, torch semantics: scale = maxNorm / (norm + 1e-6) when norm > maxNorm.
      if (maxGradNorm > 0 && Number.isFinite(maxGradNorm)) {
        const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!;
        if (norm > maxGradNorm) {
          const scale = maxGradNorm / (norm + 1e-6);
          for (const name of Object.keys(grads)) grads[name] = tf.mul(grads[name]!, scale);
        }
      }
      // Decoupled decay first (p ← p(1 − lr·wd)), then Adam, as torch.optim.AdamW.
      if (weightDecay > 0)
        for (const [name, v] of vars)
          if (!isDefaultNoDecayParam(name)) v.assign(tf.mul(v, 1 - options.lr * weightDecay));
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      return value.dataSync()[0]!;
    });
  }

  return {
    step,
    dispose() {
      optimizer.dispose();
      for (const v of vars.values()) v.dispose();
      for (const t of [ids, targetOneHot, lossMask, posT, cosHalf, sinHalf, cos, sin, attnMask, idsOneHotT])
        t.dispose();
    },
  };
}

function shapeOf(c: LlamaFamilyConfig, name: string): number[] {
  const h = c.hiddenSize;
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return [c.vocabSize, h];
  if (name.endsWith('q_proj.weight')) return [c.numHeads * c.headDim, h];
  if (name.endsWith('k_proj.weight') || name.endsWith('v_proj.weight')) return [c.numKvHeads * c.headDim, h];
  if (name.endsWith('o_proj.weight')) return [h, c.numHeads * c.headDim];
  if (name.endsWith('gate_proj.weight') || name.endsWith('up_proj.weight')) return [c.intermediateSize, h];
  if (name.endsWith('down_proj.weight')) return [h, c.intermediateSize];
  throw new Error(`TF.js baseline: unsupported parameter ${name} (biases, qk-norm are not modelled)`);
}

export interface TfjsBenchResult {
  /** Median step time of the measured steps, or the warm-up step's time when none fit the budget. */
  readonly stepMs: number;
  readonly measuredSteps: number;
  /** Loss before each step (warm-up first). */
  readonly losses: readonly number[];
}

/**
 * Warm-up step, then up to `steps` timed steps while the elapsed time stays under `budgetMs`
 * (the ~10M config takes seconds per step on one wasm thread).
 */
export async function benchTfjsStep(
  options: TfjsTrainerOptions,
  steps: number,
  budgetMs: number,
): Promise<TfjsBenchResult> {
  await initTfjsWasm();
  const trainer = createTfjsTrainer(options);
  try {
    const t0 = performance.now();
    const losses = [trainer.step()];
    const warmMs = performance.now() - t0;
    const times: number[] = [];
    while (times.length < steps && performance.now() - t0 + warmMs < budgetMs) {
      const s = performance.now();
      losses.push(trainer.step());
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const stepMs = times.length > 0 ? times[Math.floor(times.length / 2)]! : warmMs;
    return { stepMs, measuredSteps: times.length, losses };
  } finally {
    trainer.dispose();
  }
}
