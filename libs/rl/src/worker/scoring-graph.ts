import { createGraph, toOnnxModel } from '@verdict/graph';
import { type CausalLmConfig, modelTrainingFor } from '@verdict/models';
import { tokenEntropy, tokenLogprobs } from '../losses/token-logprobs.js';
import { valueHead } from '../losses/value-loss.js';
import { VALUE_HEAD_BIAS, VALUE_HEAD_WEIGHT, valueHeadWidth } from '../training/training-graph.js';

/**
 * Forward-only graph at the current parameters (fed as inputs): per-position `logprobs` of the
 * targets, `entropy`, and with `values` the PPO value head V_t — the same family trunk (`modelTrainingFor`) and
 * head definitions as the training graph, so behaviour log-probs and old values match it exactly.
 * Inputs: `input_ids`, `attention_mask`, `position_ids`, `targets` (int64 [batch, seq]).
 */
export function buildScoringGraph(config: CausalLmConfig, options: { values: boolean }): Uint8Array {
  const g = createGraph();
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  const targets = g.input('targets', 'int64', ['batch', 'seq']);
  const family = modelTrainingFor(config);
  const params = family.declareParams(g, config, undefined);
  const { hidden, lmHeadWeight } = family.forward(g, config, params, {
    inputIds,
    attentionMask,
    positionIds,
  });
  const logits = g.matmul(hidden, g.transpose(lmHeadWeight, [1, 0]));
  g.output('logprobs', tokenLogprobs(g, logits, targets));
  g.output('entropy', tokenEntropy(g, logits));
  if (options.values) {
    const w = g.param(VALUE_HEAD_WEIGHT, 'float32', [valueHeadWidth(config)]);
    const b = g.param(VALUE_HEAD_BIAS, 'float32', [1]);
    g.output('values', valueHead(g, hidden, w, b));
  }
  return toOnnxModel(g, { name: options.values ? 'scoring-values' : 'scoring', params: 'inputs' });
}
