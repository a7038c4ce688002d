import type { GraphBuilder, Tensor, Value } from '../src/index.js';
import { createTensor } from '../src/index.js';

/**
 * A small Llama written with the builder's composites, in float32 or float64, for whole-model
 * gradient checks. It mirrors libs/models' trunk (HF names and [out, in] Linear layout, RMSNorm,
 * rotate_half RoPE from position ids, GQA via repeat_kv, causal + padding additive bias, SwiGLU,
 * tied or untied head) because that trunk is float32-only (see the autodiff README section).
 */
export interface TinyLlamaConfig {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  tied: boolean;
}

type Dt = 'float32' | 'float64';

function linearHf(g: GraphBuilder, x: Value, w: Value): Value {
  return g.matmul(x, g.transpose(w, [1, 0]));
}

/** Declares params and inputs and returns the masked token cross-entropy (mean over unmasked tokens). */
export function buildTinyLlamaLoss(g: GraphBuilder, dt: Dt, c: TinyLlamaConfig): Value {
  const D = c.hidden / c.heads;
  const group = c.heads / c.kvHeads;
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const pos = g.input('position_ids', 'int64', ['batch', 'seq']);
  const targets = g.input('targets', 'int64', ['batch', 'seq']);
  const lossMask = g.input('loss_mask', dt, ['batch', 'seq']);
  const p = (name: string, shape: number[]) => g.param(name, dt, shape);
  const embed = p('model.embed_tokens.weight', [c.vocab, c.hidden]);
  let h = g.gather(embed, ids, 0);
  const { cos, sin } = g.rotaryCosSin(pos, { headDim: D, theta: 10000, dtype: dt }); // [B,1,S,D]
  const bias = g.attentionBias({ queryLen: 'seq', keyLen: 'seq', paddingMask: mask, dtype: dt }); // [B,1,S,S]
  const heads = (x: Value, n: number) => g.transpose(g.reshape(x, ['batch', 'seq', n, D]), [0, 2, 1, 3]);
  for (let l = 0; l < c.layers; l++) {
    const pre = `model.layers.${l}.`;
    const x = g.rmsNorm(h, p(`${pre}input_layernorm.weight`, [c.hidden]), 1e-5);
    const q = g.applyRotary(
      heads(linearHf(g, x, p(`${pre}self_attn.q_proj.weight`, [c.hidden, c.hidden])), c.heads),
      cos,
      sin,
    );
    let k = g.applyRotary(
      heads(linearHf(g, x, p(`${pre}self_attn.k_proj.weight`, [c.kvHeads * D, c.hidden])), c.kvHeads),
      cos,
      sin,
    );
    let v = heads(linearHf(g, x, p(`${pre}self_attn.v_proj.weight`, [c.kvHeads * D, c.hidden])), c.kvHeads);
    if (group > 1) {
      // HF repeat_kv: [B,KV,S,D] → [B,KV·group,S,D].
      const rep = (t: Value) =>
        g.reshape(g.expand(g.unsqueeze(t, 2), ['batch', c.kvHeads, group, 'seq', D]), [
          'batch',
          c.heads,
          'seq',
          D,
        ]);
      k = rep(k);
      v = rep(v);
    }
    const attn = g.attention(q, k, v, bias);
    const merged = g.reshape(g.transpose(attn, [0, 2, 1, 3]), ['batch', 'seq', c.hidden]);
    h = g.add(h, linearHf(g, merged, p(`${pre}self_attn.o_proj.weight`, [c.hidden, c.hidden])));
    const x2 = g.rmsNorm(h, p(`${pre}post_attention_layernorm.weight`, [c.hidden]), 1e-5);
    const gate = linearHf(g, x2, p(`${pre}mlp.gate_proj.weight`, [c.ffn, c.hidden]));
    const up = linearHf(g, x2, p(`${pre}mlp.up_proj.weight`, [c.ffn, c.hidden]));
    h = g.add(h, linearHf(g, g.mul(g.silu(gate), up), p(`${pre}mlp.down_proj.weight`, [c.hidden, c.ffn])));
  }
  h = g.rmsNorm(h, p('model.norm.weight', [c.hidden]), 1e-5);
  const head = c.tied ? embed : p('lm_head.weight', [c.vocab, c.hidden]);
  const logp = g.logSoftmax(linearHf(g, h, head));
  const picked = g.squeeze(g.gatherElements(logp, g.unsqueeze(targets, -1), -1), -1); // [B,S]
  return g.neg(g.div(g.sum(g.mul(picked, lossMask), [0, 1]), g.sum(lossMask, [0, 1])));
}

/**
 * Inputs for batch 2 × seq 5: row 0 right-padded (last 2 tokens padding), row 1 left-padded
 * (first token padding, positions start at its first real token, as HF computes them).
 * Padding tokens still carry a valid id (indices must be in range) and a zero loss mask.
 */
export function tinyLlamaFeeds(vocab: number): Record<string, Tensor> {
  const i64 = (v: number[]) => createTensor('int64', [2, 5], BigInt64Array.from(v.map(BigInt)));
  const ids = [3, 1, 4, 0, 0, 0, 5, 9 % vocab, 2, 6];
  const mask = [1, 1, 1, 0, 0, 0, 1, 1, 1, 1];
  return {
    input_ids: i64(ids),
    attention_mask: i64(mask),
    position_ids: i64([0, 1, 2, 0, 0, 0, 0, 1, 2, 3]),
    targets: i64([1, 4, 1, 0, 0, 0, 9 % vocab, 2, 6, 5]),
    loss_mask: createTensor('float64', [2, 5], Float64Array.from([1, 1, 0, 0, 0, 0, 1, 1, 1, 0])),
  };
}
