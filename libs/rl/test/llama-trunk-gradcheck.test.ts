import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  analyticGrads,
  createGraph,
  createTensor,
  type GraphBuilder,
  gradcheck,
  makeGradcheckData,
  replayGraph,
  type Tensor,
  type Value,
} from '@verdict/graph';
import {
  declareLlamaParams,
  llamaTrunk,
  llamaWeightShapes,
  lmHeadWeight,
  parseLlamaFamilyConfig,
} from '@verdict/models';
import { buildSftLoss } from '../src/losses/sft-loss.js';
import { tokenLogprobs } from '../src/losses/token-logprobs.js';

// The whole-model gradient check on the REAL architecture definition the policy-server serves
// (libs/models `llamaTrunk`), not a test copy: Qwen3-style q/k norm, GQA (4 query heads over 2
// KV heads), RoPE, a left- and a right-padded row, masked cross-entropy; tied and untied heads.
// libs/models builds float32 only, so the float32 graph is replayed as float64 (`replayGraph`)
// for the finite differences. Tolerance: @verdict/graph's gradcheck defaults (central differences,
// h = 1e-6·max(1,|x|), |Δ| / max(|a|, |n|, 1e-3) ≤ 1e-5): FD noise in float64 is ~1e-9 absolute,
// a wrong VJP shows up as O(1e-3…1) relative error. See libs/graph/src/autodiff/gradcheck.ts.

function tinyConfig(tied: boolean, qkNorm: boolean) {
  return parseLlamaFamilyConfig({
    architectures: [qkNorm ? 'Qwen3ForCausalLM' : 'LlamaForCausalLM'],
    model_type: qkNorm ? 'qwen3' : 'llama',
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 4,
    vocab_size: 11,
    max_position_embeddings: 32,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: tied,
  });
}

function buildLoss(g: GraphBuilder, tied: boolean, qkNorm: boolean): Value {
  const config = tinyConfig(tied, qkNorm);
  const params = declareLlamaParams(g, config, undefined);
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  const targets = g.input('targets', 'int64', ['batch', 'seq']);
  const lossMask = g.input('loss_mask', 'float32', ['batch', 'seq']);
  const { hidden } = llamaTrunk(g, config, params, { inputIds, attentionMask, positionIds });
  const logits = g.matmul(hidden, g.transpose(lmHeadWeight(config, params), [1, 0]));
  return buildSftLoss(g, { logprobs: tokenLogprobs(g, logits, targets), mask: lossMask }).loss;
}

function feeds(): Record<string, Tensor> {
  const i64 = (v: number[]) => createTensor('int64', [2, 5], BigInt64Array.from(v.map(BigInt)));
  return {
    // Row 0 right-padded, row 1 left-padded; padded targets get a valid id and a zero mask.
    input_ids: i64([3, 1, 4, 0, 0, 0, 5, 9, 2, 6]),
    attention_mask: i64([1, 1, 1, 0, 0, 0, 1, 1, 1, 1]),
    position_ids: i64([0, 1, 2, 1, 1, 1, 0, 1, 2, 3]),
    targets: i64([1, 4, 1, 0, 0, 0, 9, 2, 6, 5]),
    loss_mask: createTensor('float64', [2, 5], Float64Array.from([1, 1, 0, 0, 0, 0, 1, 1, 1, 0])),
  };
}

function spec(tied: boolean, qkNorm: boolean) {
  return {
    build(g: GraphBuilder, dtype: 'float32' | 'float64') {
      const src = createGraph();
      const loss = buildLoss(src, tied, qkNorm);
      const out = replayGraph(g, src, { floatDtype: dtype }).get(loss.name);
      assert.ok(out !== undefined && out.dtype === dtype);
      return out;
    },
    feeds: feeds(),
    ranges: { 'model.norm.weight': [0.5, 1.5] as const },
    entries: 6,
  };
}

for (const [tied, qkNorm] of [
  [true, false],
  [false, true],
] as const) {
  const label = `${tied ? 'tied' : 'untied'} head${qkNorm ? ', q/k norm' : ''}`;
  test(`libs/models Llama trunk (${label}): every parameter tensor matches central differences`, async () => {
    const s = spec(tied, qkNorm);
    const report = await gradcheck(s);
    // Every parameter tensor of the architecture is checked (tied: no separate lm_head).
    assert.equal(report.tensors.length, [...llamaWeightShapes(tinyConfig(tied, qkNorm))].length);
    for (const t of report.tensors) assert.ok(t.maxAbsGrad > 1e-7, `${t.name}: gradient is zero`);
    console.log(
      `trunk ${label}: ${report.tensors.length} tensors, worst rel ${report.worstRel.toExponential(2)}, worst abs ${report.worstAbs.toExponential(2)}`,
    );
  });

  test(`libs/models Llama trunk (${label}): float32 analytic gradients match float64`, async () => {
    const s = spec(tied, qkNorm);
    const data = makeGradcheckData(s);
    const g64 = await analyticGrads(s, data, 'float64');
    const g32 = await analyticGrads(s, data, 'float32');
    for (const [name, a] of g64.grads) {
      const b = g32.grads.get(name);
      assert.ok(b, name);
      const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
      // float32 rounds at ~6e-8 per op; 1e-4 of the tensor's largest gradient leaves ample room.
      assert.ok(diff <= 1e-4 * scale, `${name}: max|g32 − g64| ${diff} vs max|g64| ${scale}`);
    }
  });
}
