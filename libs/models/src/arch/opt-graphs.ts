import { createGraph, type GraphBuilder, type Value } from '@verdict/graph';
import type { OptConfig } from '../checkpoint/opt-config.js';
import type { OptWeights } from '../checkpoint/opt-weights.js';
import { lastRealPosition } from './graph-parts.js';
import type { KvPair } from './llama-graph.js';
import type { InferenceGraphOptions, JudgeGraphOptions } from './llama-graphs.js';
import { declareOptParams, type OptTrunkOutputs, optLmHeadWeight, optTrunk } from './opt-graph.js';

// The OPT graphs keep the Llama graphs' input/output names and conventions (see llama-graphs.ts),
// so the KV-buffer engine, generation and the judge run them unchanged. One difference: positions
// are derived from `attention_mask` inside the graph (HF OPT's rule); `position_ids` is still an
// input, so every caller feeds both families alike, but OPT does not read it.

interface Io {
  readonly g: GraphBuilder;
  readonly inputIds: Value;
  readonly attentionMask: Value;
  readonly past: KvPair[];
}

function inputs(config: OptConfig, maskDim: string, pastDim: string | undefined): Io {
  const g = createGraph();
  const { numHeads: NH, headDim: D } = config;
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', maskDim]);
  g.input('position_ids', 'int64', ['batch', 'seq']);
  const past: KvPair[] = [];
  if (pastDim !== undefined) {
    for (let l = 0; l < config.numLayers; l++) {
      past.push({
        key: g.input(`past_key_values.${l}.key`, 'float32', ['batch', NH, pastDim, D]),
        value: g.input(`past_key_values.${l}.value`, 'float32', ['batch', NH, pastDim, D]),
      });
    }
  }
  return { g, inputIds, attentionMask, past };
}

/** hidden · headᵀ under the output name `logits` (no Identity copy of the logits). */
function logitsOf(g: GraphBuilder, hidden: Value, head: Value): Value {
  return g.node('MatMul', [hidden, g.transpose(head, [1, 0])], {}, ['logits'])[0]!;
}

function outputCache(g: GraphBuilder, present: OptTrunkOutputs['present'], prefix: string): void {
  present.forEach((kv, l) => {
    g.output(`${prefix}.${l}.key`, kv.key);
    g.output(`${prefix}.${l}.value`, kv.value);
  });
}

/**
 * Inference graph with KV cache: inputs `input_ids`, `attention_mask` [batch, past+seq],
 * `position_ids` (unused, see above), `past_key_values.N.key|value` [batch, heads, past, head_dim];
 * outputs `logits` ([batch, seq, vocab], or [batch, 1, vocab] + `logsumexp` [batch, 1] with
 * logits 'last') and `present.N.key|value`. `weights` undefined leaves parameters data-less.
 */
export function buildOptInferenceGraph(
  config: OptConfig,
  weights: OptWeights | undefined,
  options: InferenceGraphOptions = {},
): GraphBuilder {
  const { g, inputIds, attentionMask, past } = inputs(config, 'past+seq', 'past');
  const params = declareOptParams(g, config, weights);
  const { hidden, present } = optTrunk(g, config, params, { inputIds, attentionMask, past });
  const h = options.logits === 'last' ? g.slice(hidden, { axis: 1, start: -1 }) : hidden;
  const logits = logitsOf(g, h, optLmHeadWeight(config, params));
  g.output('logits', logits);
  if (options.logits === 'last') g.output('logsumexp', g.logSumExp(logits, -1));
  outputCache(g, present, 'present');
  return g;
}

/**
 * Decode graph over caller-owned KV buffers (see buildLlamaDecodeGraph): `past_key_values.N.*`
 * [batch, heads, capacity, head_dim], `attention_mask` [batch, capacity+seq] (unfilled positions
 * 0, which also keeps them out of the position count); outputs `logits` [batch, 1, vocab],
 * `logsumexp` and the new positions only, `new_key_values.N.key|value`.
 */
export function buildOptDecodeGraph(config: OptConfig, weights: OptWeights | undefined): GraphBuilder {
  const { g, inputIds, attentionMask, past } = inputs(config, 'capacity+seq', 'capacity');
  const params = declareOptParams(g, config, weights);
  const { hidden, present } = optTrunk(g, config, params, {
    inputIds,
    attentionMask,
    past,
    presentKind: 'new-only',
  });
  const logits = logitsOf(g, g.slice(hidden, { axis: 1, start: -1 }), optLmHeadWeight(config, params));
  g.output('logits', logits);
  g.output('logsumexp', g.logSumExp(logits, -1));
  outputCache(g, present, 'new_key_values');
  return g;
}

/**
 * Judge graph (prefill only): inputs `input_ids`, `attention_mask`, `position_ids` (unused)
 * [batch, seq] and `token_ids` [num_tokens] unless baked; outputs `selected_logits` [batch, k] at
 * the last real position and `logsumexp` [batch] over the vocabulary. Only one position's logits
 * are formed.
 */
export function buildOptJudgeGraph(
  config: OptConfig,
  weights: OptWeights | undefined,
  options: JudgeGraphOptions = {},
): GraphBuilder {
  const { g, inputIds, attentionMask } = inputs(config, 'seq', undefined);
  const tokenIds = options.tokenIds
    ? g.constant(BigInt64Array.from(options.tokenIds.map(BigInt)), [options.tokenIds.length], 'int64')
    : g.input('token_ids', 'int64', ['num_tokens']);
  const params = declareOptParams(g, config, weights);
  const { hidden } = optTrunk(g, config, params, { inputIds, attentionMask });
  const last = lastRealPosition(g, hidden, attentionMask);
  const logits = g.matmul(last, g.transpose(optLmHeadWeight(config, params), [1, 0])); // [B,V]
  g.output('selected_logits', g.gather(logits, tokenIds, 1));
  g.output('logsumexp', g.logSumExp(logits, -1));
  return g;
}
