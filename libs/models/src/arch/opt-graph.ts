import type { Dim, GraphBuilder, Value } from '@verdict/graph';
import type { OptConfig } from '../checkpoint/opt-config.js';
import { type OptWeights, optWeightShapes } from '../checkpoint/opt-weights.js';
import { ModelError } from '../errors.js';
import { linearHf, paramOf } from './graph-parts.js';
import type { KvPair } from './llama-graph.js';

/**
 * OPT / Galactica (HF OPTForCausalLM) written once in the graph builder: learned positions
 * (offset 2) derived from the attention mask, multi-head attention with biases and an optional KV
 * cache, pre- or post-LayerNorm, ReLU or exact GELU FFN, optional project_in / project_out.
 * Parameters keep HF names and torch `Linear` layout [out, in], as in llama-graph.ts.
 */
export type OptParams = ReadonlyMap<string, Value>;

/** Declares every parameter: initializers with data when `weights` is given, else graph inputs-to-be. */
export function declareOptParams(
  g: GraphBuilder,
  config: OptConfig,
  weights: OptWeights | undefined,
): OptParams {
  const out = new Map<string, Value>();
  for (const [name, shape] of optWeightShapes(config)) {
    const data = weights?.get(name);
    if (weights && data === undefined)
      throw new ModelError('INVALID_ARGUMENT', `weights are missing ${name}`);
    out.set(name, g.param(name, 'float32', shape, data));
  }
  return out;
}

export interface OptTrunkInputs {
  /** [batch, seq] int64. */
  readonly inputIds: Value;
  /** [batch, past+seq] (or [batch, seq] without cache) int64, 1 = attend. Positions come from it. */
  readonly attentionMask: Value;
  /** One per layer when a KV cache is used ([batch, heads, past, head_dim]). */
  readonly past?: readonly KvPair[];
  /** As llama-graph's TrunkInputs.presentKind: 'concat' (default) or 'new-only' (caller-owned buffers). */
  readonly presentKind?: 'concat' | 'new-only';
}

export interface OptTrunkOutputs {
  /** Hidden states ready for the LM head [batch, seq, word_embed_proj_dim] (final LN and project_out applied). */
  readonly hidden: Value;
  /** past ++ new (or only new, with 'new-only') keys/values per layer (only with `past`). */
  readonly present: KvPair[];
}

const p = paramOf;

/**
 * Rows of `embed_positions` for the last `seq` columns of `mask` [B,K]: HF OPT's position id
 * cumsum(mask)·mask − 1 plus the offset 2, so a left-padded row's first real token reads row 2 and
 * pads row 1. Derived here rather than read from `position_ids` because, unlike RoPE, learned
 * absolute positions change the logits when a caller numbers pads; the running count is a masked
 * sum (B·S·K int64, the size of the attention scores) since the builder has no CumSum.
 */
export function optPositionRows(g: GraphBuilder, mask: Value, seq: Dim): Value {
  const keyLen = mask.shape[1]!;
  const kPos = g.arange(keyLen); // [K]
  const qPos = g.add(g.arange(seq), g.sub(g.dimScalar(keyLen), g.dimScalar(seq))); // [S]: key column of each query
  const upTo = g.cast(g.less(kPos, g.add(g.unsqueeze(qPos, -1), 1)), 'int64'); // [S,K]: k ≤ q
  const counts = g.sum(g.mul(g.unsqueeze(mask, 1), upTo), -1); // [B,S] = cumsum(mask) at q
  const own = g.gather(mask, qPos, 1); // [B,S] = mask at q
  return g.add(g.mul(counts, own), 1);
}

interface AttnDims {
  readonly batch: Dim;
  readonly seq: Dim;
  readonly heads: number;
  readonly headDim: number;
}

/** [B,NH,S,D] → [B,S,NH·D]. */
function mergeHeads(g: GraphBuilder, x: Value, d: AttnDims): Value {
  return g.reshape(g.transpose(x, [0, 2, 1, 3]), [d.batch, d.seq, d.heads * d.headDim]);
}

/** softmax(q·kᵀ + bias)·v with q already scaled; q [B,NH,S,D], k/v [B,NH,K,D], bias [B,1,S,K]. */
function attention(g: GraphBuilder, q: Value, k: Value, v: Value, bias: Value, d: AttnDims): Value {
  const probs = g.softmax(g.add(g.matmul(q, g.transposeLast2(k)), bias), -1);
  return mergeHeads(g, g.matmul(probs, v), d);
}

/**
 * `attention` over past ++ new keys without forming past ++ new (see llama-graph's
 * splitCacheAttention): scores against both are concatenated, one softmax, two matmuls.
 */
function splitCacheAttention(
  g: GraphBuilder,
  q: Value,
  past: KvPair,
  newK: Value,
  newV: Value,
  bias: Value,
  d: AttnDims,
): Value {
  const pastLen = past.key.shape[2]!;
  const scores = g.concat([g.matmul(q, g.transposeLast2(past.key)), g.matmul(q, g.transposeLast2(newK))], -1);
  const probs = g.softmax(g.add(scores, bias), -1); // [B,NH,S,P+S]
  const pPast = g.slice(probs, { axis: 3, start: 0, end: pastLen, size: pastLen });
  const pNew = g.slice(probs, { axis: 3, start: pastLen, size: d.seq });
  return mergeHeads(g, g.add(g.matmul(pPast, past.value), g.matmul(pNew, newV)), d);
}

/** The decoder stack up to the LM head's input (final LayerNorm and project_out included). */
export function optTrunk(
  g: GraphBuilder,
  config: OptConfig,
  params: OptParams,
  inputs: OptTrunkInputs,
): OptTrunkOutputs {
  const { numHeads: NH, headDim: D, layerNormEps: eps } = config;
  const seq = inputs.inputIds.shape[1]!;
  const batch = inputs.inputIds.shape[0]!;
  const keyLen = inputs.attentionMask.shape[1]!;
  const dims: AttnDims = { batch, seq, heads: NH, headDim: D };
  const opt = (n: string) => params.get(n);
  const ln = (x: Value, name: string) => g.layerNorm(x, opt(`${name}.weight`), opt(`${name}.bias`), eps);
  const lin = (x: Value, name: string) => linearHf(g, x, p(params, `${name}.weight`), opt(`${name}.bias`));
  const d = 'model.decoder.';

  let h = g.gather(p(params, `${d}embed_tokens.weight`), inputs.inputIds, 0); // [B,S,E]
  if (config.wordEmbedProjDim !== config.hiddenSize) h = lin(h, `${d}project_in`);
  const positions = optPositionRows(g, inputs.attentionMask, seq);
  h = g.add(h, g.gather(p(params, `${d}embed_positions.weight`), positions, 0));
  // [B,1,S,K] additive bias (causal + padding), finite so fully padded rows stay NaN-free.
  const bias = g.attentionBias({ queryLen: seq, keyLen, paddingMask: inputs.attentionMask, maskValue: -1e9 });
  const scaling = D ** -0.5;
  const heads = (x: Value) => g.transpose(g.reshape(x, [batch, seq, NH, D]), [0, 2, 1, 3]); // [B,NH,S,D]
  const present: KvPair[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const pre = `${d}layers.${l}.`;
    // Self-attention block; HF scales q (bias included) before Q·Kᵀ.
    const x = config.doLayerNormBefore ? ln(h, `${pre}self_attn_layer_norm`) : h;
    const q = heads(g.mul(lin(x, `${pre}self_attn.q_proj`), scaling));
    let k = heads(lin(x, `${pre}self_attn.k_proj`));
    let v = heads(lin(x, `${pre}self_attn.v_proj`));
    const past = inputs.past?.[l];
    let merged: Value;
    if (past && inputs.presentKind === 'new-only') {
      present.push({ key: k, value: v });
      merged = splitCacheAttention(g, q, past, k, v, bias, dims);
    } else {
      if (past) {
        // Named as the graph outputs, so emitting the cache adds no Identity copy (as llama-graph).
        k = g.node('Concat', [past.key, k], { axis: 2 }, [`present.${l}.key`])[0]!;
        v = g.node('Concat', [past.value, v], { axis: 2 }, [`present.${l}.value`])[0]!;
        present.push({ key: k, value: v });
      }
      merged = attention(g, q, k, v, bias, dims);
    }
    h = g.add(h, lin(merged, `${pre}self_attn.out_proj`));
    if (!config.doLayerNormBefore) h = ln(h, `${pre}self_attn_layer_norm`);
    // Feed-forward block.
    const x2 = config.doLayerNormBefore ? ln(h, `${pre}final_layer_norm`) : h;
    const up = lin(x2, `${pre}fc1`);
    const act = config.activation === 'relu' ? g.relu(up) : g.gelu(up, 'none');
    h = g.add(h, lin(act, `${pre}fc2`));
    if (!config.doLayerNormBefore) h = ln(h, `${pre}final_layer_norm`);
  }
  if (config.finalLayerNorm) h = ln(h, `${d}final_layer_norm`);
  if (config.wordEmbedProjDim !== config.hiddenSize) h = lin(h, `${d}project_out`);
  return { hidden: h, present };
}

/** The LM head weight [vocab, word_embed_proj_dim]: lm_head, or the token embedding when tied. */
export function optLmHeadWeight(config: OptConfig, params: OptParams): Value {
  return p(params, config.tieWordEmbeddings ? 'model.decoder.embed_tokens.weight' : 'lm_head.weight');
}
