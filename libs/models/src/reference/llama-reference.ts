import { ropeInverseFrequencies } from '../arch/rope.js';
import type { LlamaFamilyConfig } from '../checkpoint/llama-config.js';
import type { LlamaWeights } from '../checkpoint/llama-weights.js';

/**
 * A plain-JS float64 forward pass of the Llama family, written straight from the HF
 * modeling code (RMSNorm, rotate_half RoPE, repeat_kv GQA, SwiGLU, optional q/k-norm and
 * biases). It is the oracle the ONNX graphs are tested against; slow on purpose-free loops.
 */
export interface ReferenceBatch {
  readonly inputIds: readonly (readonly number[])[];
  /** 1 = real token, 0 = padding; default all ones. */
  readonly attentionMask?: readonly (readonly number[])[];
  /** Default: HF rule cumsum(mask) − 1, padded positions 1. */
  readonly positionIds?: readonly (readonly number[])[];
}

/** HF `generate` position ids: cumsum(mask) − 1, and 1 where the mask is 0. */
export function positionIdsFromMask(mask: readonly number[]): number[] {
  let sum = 0;
  return mask.map((m) => {
    sum += m;
    return m === 0 ? 1 : sum - 1;
  });
}

// HF fills masked scores with the dtype minimum; a finite value keeps fully-masked rows NaN-free.
const MASKED = -3.4028234663852886e38;

function param(w: LlamaWeights, name: string): Float32Array {
  const t = w.get(name);
  if (t === undefined) throw new Error(`reference forward: missing weight ${name}`);
  return t;
}

/** y[o] = sum_i W[o, i] x[i] + b[o] for a torch Linear [out, in]. */
function linear(
  x: Float64Array,
  wt: Float32Array,
  bias: Float32Array | undefined,
  out: number,
): Float64Array {
  const inn = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = bias ? bias[o]! : 0;
    const row = o * inn;
    for (let i = 0; i < inn; i++) s += wt[row + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number, offset = 0, len = x.length): void {
  let ss = 0;
  for (let i = 0; i < len; i++) ss += x[offset + i]! ** 2;
  const r = 1 / Math.sqrt(ss / len + eps);
  for (let i = 0; i < len; i++) x[offset + i] = x[offset + i]! * r * w[i]!;
}

function normed(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  const y = Float64Array.from(x);
  rmsNorm(y, w, eps);
  return y;
}

function rope(v: Float64Array, heads: number, d: number, pos: number, inv: Float64Array): void {
  const half = d / 2;
  for (let h = 0; h < heads; h++) {
    const o = h * d;
    for (let j = 0; j < half; j++) {
      const a = pos * inv[j]!;
      const c = Math.cos(a);
      const s = Math.sin(a);
      const x1 = v[o + j]!;
      const x2 = v[o + j + half]!;
      v[o + j] = x1 * c - x2 * s;
      v[o + j + half] = x2 * c + x1 * s;
    }
  }
}

/** Logits for every position: result[b][t] is a Float64Array of vocab size. */
export function referenceForward(
  config: LlamaFamilyConfig,
  weights: LlamaWeights,
  batch: ReferenceBatch,
): Float64Array[][] {
  const head = config.tieWordEmbeddings
    ? param(weights, 'model.embed_tokens.weight')
    : param(weights, 'lm_head.weight');
  return referenceHiddenStates(config, weights, batch).map((rows) =>
    rows.map((h) => linear(h, head, undefined, config.vocabSize)),
  );
}

/** Final-normed hidden states for every position: result[b][t] is a Float64Array of hidden size. */
export function referenceHiddenStates(
  config: LlamaFamilyConfig,
  weights: LlamaWeights,
  batch: ReferenceBatch,
): Float64Array[][] {
  const {
    hiddenSize: H,
    headDim: D,
    numHeads: NH,
    numKvHeads: NKV,
    intermediateSize: FF,
    rmsNormEps: eps,
  } = config;
  const inv = ropeInverseFrequencies(config);
  const embed = param(weights, 'model.embed_tokens.weight');
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(D);
  return batch.inputIds.map((ids, b) => {
    const T = ids.length;
    const mask = batch.attentionMask?.[b] ?? ids.map(() => 1);
    const pos = batch.positionIds?.[b] ?? positionIdsFromMask(mask);
    let hs: Float64Array[] = ids.map((id) => Float64Array.from(embed.subarray(id * H, (id + 1) * H)));
    for (let l = 0; l < config.numLayers; l++) {
      const p = `model.layers.${l}.`;
      const opt = (n: string) => weights.get(p + n);
      const qs: Float64Array[] = [];
      const ks: Float64Array[] = [];
      const vs: Float64Array[] = [];
      for (let t = 0; t < T; t++) {
        const x = normed(hs[t]!, param(weights, `${p}input_layernorm.weight`), eps);
        const q = linear(
          x,
          param(weights, `${p}self_attn.q_proj.weight`),
          opt('self_attn.q_proj.bias'),
          NH * D,
        );
        const k = linear(
          x,
          param(weights, `${p}self_attn.k_proj.weight`),
          opt('self_attn.k_proj.bias'),
          NKV * D,
        );
        const v = linear(
          x,
          param(weights, `${p}self_attn.v_proj.weight`),
          opt('self_attn.v_proj.bias'),
          NKV * D,
        );
        if (config.qkNorm) {
          for (let h = 0; h < NH; h++)
            rmsNorm(q, param(weights, `${p}self_attn.q_norm.weight`), eps, h * D, D);
          for (let h = 0; h < NKV; h++)
            rmsNorm(k, param(weights, `${p}self_attn.k_norm.weight`), eps, h * D, D);
        }
        rope(q, NH, D, pos[t]!, inv);
        rope(k, NKV, D, pos[t]!, inv);
        qs.push(q);
        ks.push(k);
        vs.push(v);
      }
      const next: Float64Array[] = [];
      for (let t = 0; t < T; t++) {
        const attn = new Float64Array(NH * D);
        for (let h = 0; h < NH; h++) {
          const kvh = Math.floor(h / group);
          const scores = new Float64Array(T);
          let max = Number.NEGATIVE_INFINITY;
          for (let s = 0; s < T; s++) {
            let dot = 0;
            for (let j = 0; j < D; j++) dot += qs[t]![h * D + j]! * ks[s]![kvh * D + j]!;
            scores[s] = s <= t && mask[s] === 1 ? dot * scale : MASKED;
            max = Math.max(max, scores[s]!);
          }
          let sum = 0;
          for (let s = 0; s < T; s++) {
            scores[s] = Math.exp(scores[s]! - max);
            sum += scores[s]!;
          }
          for (let s = 0; s < T; s++) {
            const a = scores[s]! / sum;
            for (let j = 0; j < D; j++) attn[h * D + j] = attn[h * D + j]! + a * vs[s]![kvh * D + j]!;
          }
        }
        const o = linear(
          attn,
          param(weights, `${p}self_attn.o_proj.weight`),
          opt('self_attn.o_proj.bias'),
          H,
        );
        const h1 = hs[t]!.map((x, i) => x + o[i]!);
        const x2 = normed(h1, param(weights, `${p}post_attention_layernorm.weight`), eps);
        const g = linear(x2, param(weights, `${p}mlp.gate_proj.weight`), opt('mlp.gate_proj.bias'), FF);
        const u = linear(x2, param(weights, `${p}mlp.up_proj.weight`), opt('mlp.up_proj.bias'), FF);
        for (let i = 0; i < FF; i++) g[i] = (g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!;
        const down = linear(g, param(weights, `${p}mlp.down_proj.weight`), opt('mlp.down_proj.bias'), H);
        next.push(h1.map((x, i) => x + down[i]!));
      }
      hs = next;
    }
    const normW = param(weights, 'model.norm.weight');
    return hs.map((h) => normed(h, normW, eps));
  });
}

/** log_softmax(logits)[id]. */
export function logProbOf(logits: ArrayLike<number>, id: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return logits[id]! - max - Math.log(sum);
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Greedy continuation by re-running the whole sequence each step (no cache): the simplest oracle. */
export function referenceGreedy(
  config: LlamaFamilyConfig,
  weights: LlamaWeights,
  promptIds: readonly number[],
  maxNewTokens: number,
): { ids: number[]; logprobs: number[]; firstLogits: Float64Array } {
  const seq = [...promptIds];
  const ids: number[] = [];
  const logprobs: number[] = [];
  let firstLogits: Float64Array | undefined;
  for (let step = 0; step < maxNewTokens; step++) {
    const rows = referenceForward(config, weights, { inputIds: [seq] })[0]!;
    const last = rows[rows.length - 1]!;
    firstLogits ??= last;
    const next = argmax(last);
    ids.push(next);
    logprobs.push(logProbOf(last, next));
    seq.push(next);
  }
  return { ids, logprobs, firstLogits: firstLogits ?? new Float64Array(0) };
}
