import { typedArrayFrom } from './dtype.js';
import type { GraphBuilder } from './graph-builder.js';
import type { Dim, Value } from './types.js';

// Composite layers built only from primitives, so reverse-mode autodiff needs primitive VJPs only.

export function silu(g: GraphBuilder, x: Value): Value {
  return g.mul(x, g.sigmoid(x));
}

/**
 * GELU: exact (erf; float32 only on ORT CPU) or the tanh approximation (GPT-2's gelu_new).
 * The exact form is written as x·0.5·(1 + erf(x / √2)), the pattern ORT fuses into com.microsoft Gelu.
 * (No tanh-form variant tried fused into FastGelu on this build.)
 */
export function gelu(g: GraphBuilder, x: Value, approximate: 'none' | 'tanh'): Value {
  if (approximate === 'tanh') {
    const inner = g.mul(g.add(x, g.mul(g.mul(g.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return g.mul(g.mul(x, 0.5), g.add(g.tanh(inner), 1));
  }
  return g.mul(g.mul(x, 0.5), g.add(g.erf(g.div(x, Math.SQRT2)), 1));
}

/** log Σ exp(x) along `axis`, shifted by a stop-gradient max for stability. */
export function logSumExp(g: GraphBuilder, x: Value, axis: number, keepDims: boolean): Value {
  const m = g.stopGradient(g.max(x, axis, true));
  const lse = g.add(g.log(g.sum(g.exp(g.sub(x, m)), axis, true)), m);
  return keepDims ? lse : g.squeeze(lse, axis);
}

export interface NormOptions {
  /**
   * Emit the node pattern ORT's optimizer fuses at level 'extended'/'all'
   * (Pow(2)→ReduceMean→Add→Sqrt→Div→Mul becomes com.microsoft SimplifiedLayerNormalization;
   * ReduceMean→Sub→Pow→ReduceMean→Add→Sqrt→Div→Mul→Add becomes LayerNormalization): 2–3× faster
   * norms. Default false: the fused kernel's rounding differs with the sequence length, which put a
   * KV-cache-vs-full-sequence logits check at 1.3e-5 instead of < 1e-5 (stories260k).
   */
  fusable?: boolean;
}

/** x / sqrt(mean(x², last axis) + eps) · weight (Llama RMSNorm). */
export function rmsNorm(
  g: GraphBuilder,
  x: Value,
  weight: Value | undefined,
  eps: number,
  opts: NormOptions = {},
): Value {
  const y = opts.fusable
    ? g.div(x, g.sqrt(g.add(g.mean(g.pow(x, 2), -1, true), eps)))
    : g.mul(x, g.reciprocal(g.sqrt(g.add(g.mean(g.mul(x, x), -1, true), eps))));
  return weight ? g.mul(y, weight) : y;
}

/** (x − mean) / sqrt(var + eps) · weight + bias over the last axis (biased variance, like torch). */
export function layerNorm(
  g: GraphBuilder,
  x: Value,
  weight: Value | undefined,
  bias: Value | undefined,
  eps: number,
  opts: NormOptions = {},
): Value {
  const c = g.sub(x, g.mean(x, -1, true));
  let y: Value;
  if (opts.fusable) {
    y = g.div(c, g.sqrt(g.add(g.mean(g.pow(c, 2), -1, true), eps)));
  } else {
    y = g.mul(c, g.reciprocal(g.sqrt(g.add(g.mean(g.mul(c, c), -1, true), eps))));
  }
  if (weight) y = g.mul(y, weight);
  return bias ? g.add(y, bias) : y;
}

/** x · W (+ b), W stored [in, out]. Hugging Face Linear weights are [out, in]: transpose them when loading. */
export function linear(g: GraphBuilder, x: Value, weight: Value, bias?: Value): Value {
  const y = g.matmul(x, weight);
  return bias ? g.add(y, bias) : y;
}

/** rotate_half: concat(−x2, x1) over the last axis. */
export function rotateHalf(g: GraphBuilder, x: Value): Value {
  const d = x.shape[x.shape.length - 1];
  if (typeof d !== 'number' || d % 2 !== 0) throw new Error(`rotateHalf: last dim must be even, got ${d}`);
  const [x1, x2] = g.split(x, [d / 2, d / 2], -1) as [Value, Value];
  return g.concat([g.neg(x2), x1], -1);
}

/** x·cos + rotate_half(x)·sin; cos/sin broadcast against x (e.g. [B,1,T,Dh] vs [B,H,T,Dh]). */
export function applyRotary(g: GraphBuilder, x: Value, cos: Value, sin: Value): Value {
  return g.add(g.mul(x, cos), g.mul(rotateHalf(g, x), sin));
}

export interface RotaryOptions {
  headDim: number;
  /** RoPE base (Llama: 10000, Llama-3/Qwen: 500000 / 1000000). */
  theta: number;
  dtype?: 'float32' | 'float64';
}

/**
 * cos/sin tables [B, 1, T, headDim] from integer position ids [B, T]
 * (inv_freq[i] = theta^(−2i/headDim), duplicated halves as in HF rotate_half models).
 */
export function rotaryCosSin(
  g: GraphBuilder,
  positions: Value,
  opts: RotaryOptions,
): { cos: Value; sin: Value } {
  const dtype = opts.dtype ?? 'float32';
  const half = opts.headDim / 2;
  const inv = Array.from({ length: half }, (_, i) => 1 / opts.theta ** ((2 * i) / opts.headDim));
  const invFreq = g.constant(typedArrayFrom(dtype, inv), [half], dtype);
  const freqs = g.mul(g.unsqueeze(g.cast(positions, dtype), -1), invFreq); // [B,T,half]
  const emb = g.unsqueeze(g.concat([freqs, freqs], -1), 1); // [B,1,T,Dh]
  return { cos: g.cos(emb), sin: g.sin(emb) };
}

export interface AttentionBiasOptions {
  /** Query length (new tokens). */
  queryLen: Dim;
  /** Key length: past + query length for a KV cache, or equal to queryLen. */
  keyLen: Dim;
  /** Optional [batch, keyLen] int64/int32/bool mask, 1 = attend, 0 = padding. */
  paddingMask?: Value;
  dtype?: 'float32' | 'float64';
  /** Added where attention is not allowed (default −1e9; softmax turns it into 0). */
  maskValue?: number;
}

/**
 * Additive attention bias: causal (query i sits at key position keyLen − queryLen + i) plus padding.
 * Shape [1, 1, q, k] without a padding mask, [B, 1, q, k] with one.
 */
export function attentionBias(g: GraphBuilder, opts: AttentionBiasOptions): Value {
  const dtype = opts.dtype ?? 'float32';
  const maskValue = opts.maskValue ?? -1e9;
  const kPos = g.arange(opts.keyLen); // [k]
  const offset = g.sub(g.dimScalar(opts.keyLen), g.dimScalar(opts.queryLen));
  const qPos = g.add(g.arange(opts.queryLen), offset); // [q]
  const future = g.greater(kPos, g.unsqueeze(qPos, -1)); // [q,k]
  const zero = g.scalar(0, dtype);
  const neg = g.scalar(maskValue, dtype);
  let bias = g.unsqueeze(g.where(future, neg, zero), [0, 1]); // [1,1,q,k]
  if (opts.paddingMask) {
    const m = opts.paddingMask;
    const pad = m.dtype === 'bool' ? m : g.equal(m, g.scalar(0, m.dtype));
    const padBias = m.dtype === 'bool' ? g.where(pad, zero, neg) : g.where(pad, neg, zero);
    bias = g.add(bias, g.unsqueeze(padBias, [1, 2])); // [B,1,q,k]
  }
  return bias;
}

/** softmax(q·kᵀ·scale + bias)·v over [..., T, Dh] operands. */
export function attention(
  g: GraphBuilder,
  q: Value,
  k: Value,
  v: Value,
  bias?: Value,
  scale?: number,
): Value {
  const dh = q.shape[q.shape.length - 1];
  const s = scale ?? 1 / Math.sqrt(typeof dh === 'number' ? dh : Number.NaN);
  if (!Number.isFinite(s)) throw new Error('attention: head dim must be numeric or scale given');
  let scores = g.mul(g.matmul(q, g.transposeLast2(k)), s);
  if (bias) scores = g.add(scores, bias);
  return g.matmul(g.softmax(scores, -1), v);
}
