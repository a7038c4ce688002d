import { createGraph, type GraphBuilder } from '@verdict/graph';
import type { LlamaFamilyConfig } from '../checkpoint/llama-config.js';
import type { LlamaWeights } from '../checkpoint/llama-weights.js';
import { ModelError } from '../errors.js';
import { lastRealPosition, linearHf, paramOf } from './graph-parts.js';
import { declareLlamaParams, type KvPair, llamaTrunk, lmHeadWeight } from './llama-graph.js';

export interface InferenceGraphOptions {
  /**
   * 'all' (default): `logits` [batch, seq, vocab], as optimum/transformers.js expect.
   * 'last': `logits` [batch, 1, vocab] for the last column only (left-padded generation needs no more),
   * plus `logsumexp` [batch, 1] over its vocabulary.
   */
  readonly logits?: 'all' | 'last';
}

/**
 * Inference graph with KV cache, optimum / transformers.js names:
 * inputs `input_ids` [batch, seq], `attention_mask` [batch, past+seq], `position_ids` [batch, seq],
 * `past_key_values.N.key|value` [batch, kv_heads, past, head_dim];
 * outputs `logits`, `present.N.key|value` [batch, kv_heads, past+seq, head_dim].
 * Prefill feeds past with length 0. `weights` undefined leaves parameters data-less (emit with params: 'inputs').
 */
export function buildLlamaInferenceGraph(
  config: LlamaFamilyConfig,
  weights: LlamaWeights | undefined,
  options: InferenceGraphOptions = {},
): GraphBuilder {
  const g = createGraph();
  const { numKvHeads: KV, headDim: D } = config;
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'past+seq']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  const past: KvPair[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    past.push({
      key: g.input(`past_key_values.${l}.key`, 'float32', ['batch', KV, 'past', D]),
      value: g.input(`past_key_values.${l}.value`, 'float32', ['batch', KV, 'past', D]),
    });
  }
  const params = declareLlamaParams(g, config, weights);
  const { hidden, present } = llamaTrunk(g, config, params, { inputIds, attentionMask, positionIds, past });
  const h = options.logits === 'last' ? g.slice(hidden, { axis: 1, start: -1 }) : hidden;
  // Produced under its output name: no Identity copy of [batch, seq, vocab].
  const logits = g.node('MatMul', [h, g.transpose(lmHeadWeight(config, params), [1, 0])], {}, ['logits'])[0]!;
  g.output('logits', logits);
  // Generation's logprobs need log_softmax at the sampled id: the LSE in ORT saves a JS pass over the vocabulary.
  if (options.logits === 'last') g.output('logsumexp', g.logSumExp(logits, -1)); // [batch, 1]
  present.forEach((kv, l) => {
    g.output(`present.${l}.key`, kv.key);
    g.output(`present.${l}.value`, kv.value);
  });
  return g;
}

/**
 * Decode graph for generation over caller-owned KV buffers (not an export format): inputs
 * `input_ids`, `position_ids` [batch, seq], `past_key_values.N.key|value` [batch, kv_heads,
 * capacity, head_dim] (positions the mask zeroes may hold anything finite), `attention_mask`
 * [batch, capacity+seq]; outputs `logits` [batch, 1, vocab], `logsumexp` [batch, 1] and only the
 * new positions `new_key_values.N.key|value` [batch, kv_heads, seq, head_dim], which the caller
 * writes into its buffers. Unlike the Concat graph, nothing proportional to the cache is copied:
 * neither a past ++ new concatenation in ORT nor the present outputs onnxruntime-node copies into
 * fresh JS arrays (measured here: that copy-back alone was 30–50% of a batch-16 decode step).
 */
export function buildLlamaDecodeGraph(
  config: LlamaFamilyConfig,
  weights: LlamaWeights | undefined,
): GraphBuilder {
  const g = createGraph();
  const { numKvHeads: KV, headDim: D } = config;
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'capacity+seq']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  const past: KvPair[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    past.push({
      key: g.input(`past_key_values.${l}.key`, 'float32', ['batch', KV, 'capacity', D]),
      value: g.input(`past_key_values.${l}.value`, 'float32', ['batch', KV, 'capacity', D]),
    });
  }
  const params = declareLlamaParams(g, config, weights);
  const { hidden, present } = llamaTrunk(g, config, params, {
    inputIds,
    attentionMask,
    positionIds,
    past,
    presentKind: 'new-only',
  });
  const last = g.slice(hidden, { axis: 1, start: -1 });
  const logits = g.node('MatMul', [last, g.transpose(lmHeadWeight(config, params), [1, 0])], {}, [
    'logits',
  ])[0]!;
  g.output('logits', logits);
  g.output('logsumexp', g.logSumExp(logits, -1));
  present.forEach((kv, l) => {
    g.output(`new_key_values.${l}.key`, kv.key);
    g.output(`new_key_values.${l}.value`, kv.value);
  });
  return g;
}

export interface JudgeGraphOptions {
  /**
   * Bake these token ids into the graph; default: an int64 input `token_ids` [num_tokens] so one
   * graph serves any verdict vocabulary.
   */
  readonly tokenIds?: readonly number[];
  /**
   * Add the inference graph's KV-cache inputs and outputs (`past_key_values.N.key|value`
   * [batch, kv_heads, past, head_dim] in, `present.N.key|value` = past ++ new out; `attention_mask`
   * becomes [batch, past+seq]), so one session judges both whole prompts (past of length 0) and
   * suffixes against the cached keys/values of a shared prefix (shared-prefix judging). The verdict
   * is read at the last real position of the new tokens.
   */
  readonly pastKeyValues?: boolean;
}

/**
 * Judge graph (prefill only): inputs `input_ids`, `attention_mask`, `position_ids` [batch, seq]
 * (+ `token_ids` unless baked; + past key/values with `pastKeyValues`); outputs `selected_logits`
 * [batch, k] — the LM-head logits of the requested tokens at the last real position — and
 * `logsumexp` [batch] over the full vocabulary. Only [batch, vocab] logits of one position are
 * formed, never [batch, seq, vocab].
 */
export function buildLlamaJudgeGraph(
  config: LlamaFamilyConfig,
  weights: LlamaWeights | undefined,
  options: JudgeGraphOptions = {},
): GraphBuilder {
  const g = createGraph();
  const { numKvHeads: KV, headDim: D } = config;
  const withPast = options.pastKeyValues === true;
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', withPast ? 'past+seq' : 'seq']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  const tokenIds = options.tokenIds
    ? g.constant(BigInt64Array.from(options.tokenIds.map(BigInt)), [options.tokenIds.length], 'int64')
    : g.input('token_ids', 'int64', ['num_tokens']);
  const past: KvPair[] = [];
  for (let l = 0; withPast && l < config.numLayers; l++) {
    past.push({
      key: g.input(`past_key_values.${l}.key`, 'float32', ['batch', KV, 'past', D]),
      value: g.input(`past_key_values.${l}.value`, 'float32', ['batch', KV, 'past', D]),
    });
  }
  const params = declareLlamaParams(g, config, weights);
  const { hidden, present } = llamaTrunk(g, config, params, {
    inputIds,
    attentionMask,
    positionIds,
    ...(withPast ? { past } : {}),
  });
  // The new tokens' part of the mask locates each row's last real position among them.
  const newMask = withPast ? g.slice(attentionMask, { axis: 1, start: 'past', size: 'seq' }) : attentionMask;
  const last = lastRealPosition(g, hidden, newMask); // [B,H]
  const logits = g.matmul(last, g.transpose(lmHeadWeight(config, params), [1, 0])); // [B,V]
  // The LSE needs every logit of the row anyway, so the selected ones are read from it (bit-identical to the LM).
  g.output('selected_logits', g.gather(logits, tokenIds, 1));
  g.output('logsumexp', g.logSumExp(logits, -1));
  present.forEach((kv, l) => {
    g.output(`present.${l}.key`, kv.key);
    g.output(`present.${l}.value`, kv.value);
  });
  return g;
}

/**
 * Sequence-classification graph of a `...ForSequenceClassification` checkpoint (a reranker /
 * verifier): inputs `input_ids`, `attention_mask`, `position_ids` [batch, seq]; output `logits`
 * [batch, num_labels] = the final-normed hidden state at each row's last real token (attention
 * mask, so left and right padding both work) times `score.weight`ᵀ. Same trunk as every other head.
 */
export function buildLlamaClassifierGraph(
  config: LlamaFamilyConfig,
  weights: LlamaWeights | undefined,
): GraphBuilder {
  if (config.sequenceClassification === undefined) {
    throw new ModelError(
      'INVALID_ARGUMENT',
      'this checkpoint has no sequence-classification head (architectures ...ForSequenceClassification, score.weight)',
    );
  }
  const g = createGraph();
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  const params = declareLlamaParams(g, config, weights);
  const { hidden } = llamaTrunk(g, config, params, { inputIds, attentionMask, positionIds });
  const last = lastRealPosition(g, hidden, attentionMask); // [B,H]
  g.output('logits', linearHf(g, last, paramOf(params, 'score.weight'), undefined)); // [B,num_labels]
  return g;
}
