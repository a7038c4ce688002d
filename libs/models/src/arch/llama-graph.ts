import type { Dim, GraphBuilder, Value } from '@verdict/graph';
import type { LlamaFamilyConfig } from '../checkpoint/llama-config.js';
import { type LlamaWeights, llamaWeightShapes } from '../checkpoint/llama-weights.js';
import { ModelError } from '../errors.js';
import { linearHf, paramOf } from './graph-parts.js';
import { ropeInverseFrequencies } from './rope.js';

/**
 * The Llama family written once in the graph builder: RMSNorm, RoPE (HF rotate_half), GQA
 * attention with an optional KV cache, SwiGLU MLP, optional q/k-norm (Qwen3) and biases (Qwen2).
 * Inference, judge and (next issue) training graphs are different heads on this one trunk.
 *
 * Parameters keep Hugging Face names and torch `Linear` layout [out, in]; the graph transposes
 * them (ORT folds the transpose of an initializer at load time; as graph inputs, the gradient
 * flows back to the HF layout the learner stores).
 */
export type LlamaParams = ReadonlyMap<string, Value>;

/** Declares every parameter: initializers with data when `weights` is given, else graph inputs-to-be. */
export function declareLlamaParams(
  g: GraphBuilder,
  config: LlamaFamilyConfig,
  weights: LlamaWeights | undefined,
): LlamaParams {
  const out = new Map<string, Value>();
  for (const [name, shape] of llamaWeightShapes(config)) {
    const data = weights?.get(name);
    if (weights && data === undefined)
      throw new ModelError('INVALID_ARGUMENT', `weights are missing ${name}`);
    out.set(name, g.param(name, 'float32', shape, data));
  }
  return out;
}

/** Per-layer cache tensors [batch, kv_heads, len, head_dim]. */
export interface KvPair {
  readonly key: Value;
  readonly value: Value;
}

export interface TrunkInputs {
  /** [batch, seq] int64. */
  readonly inputIds: Value;
  /** [batch, past+seq] (or [batch, seq] without cache) int64, 1 = attend. */
  readonly attentionMask: Value;
  /** [batch, seq] int64. */
  readonly positionIds: Value;
  /** One per layer when a KV cache is used. */
  readonly past?: readonly KvPair[];
  /**
   * 'concat' (default): `present` = past ++ new positions, as optimum names them.
   * 'new-only': `past` is a caller-owned buffer whose unused positions the attention mask zeroes;
   * the graph attends to past and new keys without concatenating them and `present` holds only the
   * new positions [batch, kv_heads, seq, head_dim], which the caller writes into its buffer. No copy
   * of the cache is made in the graph or when outputs are returned (see buildLlamaDecodeGraph).
   */
  readonly presentKind?: 'concat' | 'new-only';
}

export interface TrunkOutputs {
  /** Final-normed hidden states [batch, seq, hidden]. */
  readonly hidden: Value;
  /** past ++ new keys/values per layer (only with `past`). */
  readonly present: KvPair[];
}

const p = paramOf;

/** cos/sin [batch, seq, head_dim] from position ids, using the config's (possibly scaled) inverse frequencies. */
function rotaryTables(
  g: GraphBuilder,
  config: LlamaFamilyConfig,
  positionIds: Value,
): { cos: Value; sin: Value } {
  const inv = ropeInverseFrequencies(config);
  const invFreq = g.constant(Float32Array.from(inv), [inv.length], 'float32');
  const freqs = g.mul(g.unsqueeze(g.cast(positionIds, 'float32'), -1), invFreq); // [B,S,half]
  const emb = g.concat([freqs, freqs], -1);
  return { cos: g.cos(emb), sin: g.sin(emb) };
}

/**
 * softmax(q·kᵀ/√D + bias)·v for GQA without repeating K/V: the `group` query heads that share a KV
 * head are folded into the query axis ([B,KV,group·S,D]), so each KV head runs one matmul over all
 * of its queries. Query head h = j·group + i uses KV head j, as HF repeat_kv. Measured here, this
 * beats expanding K/V (ORT's Expand was 69% of a batch-16 decode step) and 5-D broadcast matmuls.
 * q [B,S,NH,D], k/v [B,KV,K,D], bias [B|1,1,S,K] → [B,S,NH·D].
 */
function groupedAttention(
  g: GraphBuilder,
  q: Value,
  k: Value,
  v: Value,
  bias: Value,
  dims: { batch: Dim; seq: Dim; kvHeads: number; group: number; headDim: number },
): Value {
  const { batch, seq, kvHeads: KV, group, headDim: D } = dims;
  const keyLen = k.shape[2]!;
  const q5 = g.transpose(g.reshape(q, [batch, seq, KV, group, D]), [0, 2, 3, 1, 4]); // [B,KV,group,S,D]
  const scores = g.mul(g.matmul(g.reshape(q5, [batch, KV, -1, D]), g.transposeLast2(k)), 1 / Math.sqrt(D));
  const biased = g.add(g.reshape(scores, [batch, KV, group, seq, keyLen]), g.unsqueeze(bias, 1));
  const probs = g.reshape(g.softmax(biased, -1), [batch, KV, -1, keyLen]); // [B,KV,group·S,K]
  const out = g.reshape(g.matmul(probs, v), [batch, KV, group, seq, D]);
  return g.reshape(g.transpose(out, [0, 3, 1, 2, 4]), [batch, seq, KV * group * D]);
}

/**
 * groupedAttention over past ++ new keys without forming past ++ new: scores against the cached and
 * the new keys are concatenated (B·NH·(P+S) floats, not the cache), one softmax, then
 * probs_past·V_past + probs_new·V_new. pastK/pastV [B,KV,P,D], newK/newV [B,KV,S,D], bias [B|1,1,S,P+S].
 */
function splitCacheAttention(
  g: GraphBuilder,
  q: Value,
  past: KvPair,
  newK: Value,
  newV: Value,
  bias: Value,
  dims: { batch: Dim; seq: Dim; kvHeads: number; group: number; headDim: number },
): Value {
  const { batch, seq, kvHeads: KV, group, headDim: D } = dims;
  const pastLen = past.key.shape[2]!;
  const q5 = g.reshape(g.transpose(g.reshape(q, [batch, seq, KV, group, D]), [0, 2, 3, 1, 4]), [
    batch,
    KV,
    -1,
    D,
  ]);
  const scale = 1 / Math.sqrt(D);
  const sPast = g.mul(g.matmul(q5, g.transposeLast2(past.key)), scale); // [B,KV,group·S,P]
  const sNew = g.mul(g.matmul(q5, g.transposeLast2(newK)), scale); // [B,KV,group·S,S]
  const scores = g.reshape(g.concat([sPast, sNew], -1), [batch, KV, group, seq, -1]);
  const probs = g.softmax(g.add(scores, g.unsqueeze(bias, 1)), -1); // [B,KV,group,S,P+S]
  const pPast = g.reshape(g.slice(probs, { axis: 4, start: 0, end: pastLen, size: pastLen }), [
    batch,
    KV,
    -1,
    pastLen,
  ]);
  const pNew = g.reshape(g.slice(probs, { axis: 4, start: pastLen, size: seq }), [batch, KV, -1, seq]);
  const out = g.reshape(g.add(g.matmul(pPast, past.value), g.matmul(pNew, newV)), [batch, KV, group, seq, D]);
  return g.reshape(g.transpose(out, [0, 3, 1, 2, 4]), [batch, seq, KV * group * D]);
}

/** The decoder stack up to the final RMSNorm. */
export function llamaTrunk(
  g: GraphBuilder,
  config: LlamaFamilyConfig,
  params: LlamaParams,
  inputs: TrunkInputs,
): TrunkOutputs {
  const { numHeads: NH, numKvHeads: NKV, headDim: D, rmsNormEps: eps } = config;
  const group = NH / NKV;
  const seq = inputs.inputIds.shape[1]!;
  const batch = inputs.inputIds.shape[0]!;
  const keyLen = inputs.attentionMask.shape[1]!;
  let h = g.gather(p(params, 'model.embed_tokens.weight'), inputs.inputIds, 0); // [B,S,H]
  const { cos, sin } = rotaryTables(g, config, inputs.positionIds);
  const cos4 = g.unsqueeze(cos, 2); // [B,S,1,D] broadcasts over heads
  const sin4 = g.unsqueeze(sin, 2);
  // [B,1,S,K] additive bias (causal + padding), finite so fully padded rows stay NaN-free.
  const bias = g.attentionBias({ queryLen: seq, keyLen, paddingMask: inputs.attentionMask, maskValue: -1e9 });
  const present: KvPair[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const pre = `model.layers.${l}.`;
    const opt = (n: string) => params.get(pre + n);
    const x = g.rmsNorm(h, p(params, `${pre}input_layernorm.weight`), eps);
    let q = g.reshape(
      linearHf(g, x, p(params, `${pre}self_attn.q_proj.weight`), opt('self_attn.q_proj.bias')),
      [batch, seq, NH, D],
    );
    let k = g.reshape(
      linearHf(g, x, p(params, `${pre}self_attn.k_proj.weight`), opt('self_attn.k_proj.bias')),
      [batch, seq, NKV, D],
    );
    const vNew = g.reshape(
      linearHf(g, x, p(params, `${pre}self_attn.v_proj.weight`), opt('self_attn.v_proj.bias')),
      [batch, seq, NKV, D],
    );
    if (config.qkNorm) {
      q = g.rmsNorm(q, p(params, `${pre}self_attn.q_norm.weight`), eps);
      k = g.rmsNorm(k, p(params, `${pre}self_attn.k_norm.weight`), eps);
    }
    q = g.applyRotary(q, cos4, sin4);
    k = g.applyRotary(k, cos4, sin4);
    let kT = g.transpose(k, [0, 2, 1, 3]); // [B,KV,S,D]
    let vT = g.transpose(vNew, [0, 2, 1, 3]);
    const past = inputs.past?.[l];
    if (past && inputs.presentKind === 'new-only') {
      present.push({ key: kT, value: vT });
      const merged = splitCacheAttention(g, q, past, kT, vT, bias, {
        batch,
        seq,
        kvHeads: NKV,
        group,
        headDim: D,
      });
      h = g.add(
        h,
        linearHf(g, merged, p(params, `${pre}self_attn.o_proj.weight`), opt('self_attn.o_proj.bias')),
      );
    } else {
      if (past) {
        // Named as the inference graph's outputs (optimum names), so emitting the new cache adds no
        // Identity: that copy of the whole cache per step was up to 30% of a batch-16 decode step.
        kT = g.node('Concat', [past.key, kT], { axis: 2 }, [`present.${l}.key`])[0]!; // [B,KV,past+S,D]
        vT = g.node('Concat', [past.value, vT], { axis: 2 }, [`present.${l}.value`])[0]!;
        present.push({ key: kT, value: vT });
      }
      const merged = groupedAttention(g, q, kT, vT, bias, { batch, seq, kvHeads: NKV, group, headDim: D });
      h = g.add(
        h,
        linearHf(g, merged, p(params, `${pre}self_attn.o_proj.weight`), opt('self_attn.o_proj.bias')),
      );
    }
    const x2 = g.rmsNorm(h, p(params, `${pre}post_attention_layernorm.weight`), eps);
    const gate = linearHf(g, x2, p(params, `${pre}mlp.gate_proj.weight`), opt('mlp.gate_proj.bias'));
    const up = linearHf(g, x2, p(params, `${pre}mlp.up_proj.weight`), opt('mlp.up_proj.bias'));
    h = g.add(
      h,
      linearHf(
        g,
        g.mul(g.silu(gate), up),
        p(params, `${pre}mlp.down_proj.weight`),
        opt('mlp.down_proj.bias'),
      ),
    );
  }
  return { hidden: g.rmsNorm(h, p(params, 'model.norm.weight'), eps), present };
}

/** The LM head weight [vocab, hidden]: lm_head, or the embedding when tied. */
export function lmHeadWeight(config: LlamaFamilyConfig, params: LlamaParams): Value {
  if (config.sequenceClassification !== undefined) {
    // Even when tie_word_embeddings is set: HF's classifier has no output embedding to tie.
    throw new ModelError(
      'INVALID_ARGUMENT',
      'this checkpoint is a sequence classifier (score.weight, no LM head): it cannot generate or judge; score it with classify()',
    );
  }
  return p(params, config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
}
