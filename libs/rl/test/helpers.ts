import { createRandomLlamaWeights, type LlamaFamilyConfig, parseLlamaFamilyConfig } from '@verdict/models';
import type { ParamMap } from '../src/optim/param-map.js';
import type { TrainBatch } from '../src/training/train-batch.js';

/** A tiny Llama (GQA, untied head unless asked) for fast training tests. */
export function tinyConfig(overrides: Record<string, unknown> = {}): LlamaFamilyConfig {
  return parseLlamaFamilyConfig({
    model_type: 'llama',
    vocab_size: 32,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    ...overrides,
  });
}

export function tinyParams(config: LlamaFamilyConfig, seed = 1): ParamMap {
  return createRandomLlamaWeights(config, seed, 0.5);
}

/**
 * A right-padded batch from token rows: position t predicts ids[t+1]; the loss mask covers the
 * positions whose target lies at index ≥ promptLen (the completion), padding masked out.
 */
export function batchFromRows(rows: readonly number[][], promptLen = 1): TrainBatch {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.length)) - 1;
  const inputIds = new Int32Array(B * T);
  const attentionMask = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const lossMask = new Float32Array(B * T);
  rows.forEach((r, b) => {
    for (let t = 0; t < T; t++) {
      if (t < r.length - 1) {
        inputIds[b * T + t] = r[t]!;
        attentionMask[b * T + t] = 1;
        targets[b * T + t] = r[t + 1]!;
        lossMask[b * T + t] = t + 1 >= promptLen ? 1 : 0;
      }
    }
  });
  return { batchSize: B, seqLen: T, inputIds, attentionMask, targets, lossMask };
}

/** Deterministic pseudo-random token rows. */
export function randomRows(count: number, length: number, vocab: number, seed: number): number[][] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length }, () => 3 + Math.floor(next() * (vocab - 3))),
  );
}
