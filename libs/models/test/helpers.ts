import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createRandomLlamaWeights,
  type LlamaFamilyConfig,
  type LlamaWeights,
  llamaConfigToJson,
  loadModelTokenizer,
  locateSharedDir,
  parseLlamaFamilyConfig,
  toWeightMap,
  writeSafetensors,
} from '../src/index.js';

export interface ReferenceCase {
  prompt: string;
  input_ids: number[];
  last_prompt_position_logits: number[];
  generated_ids: number[];
  generated_logprobs: number[];
  generated_text: string;
  full_text: string;
}

export interface StoriesReference {
  cases: ReferenceCase[];
  batched: {
    input_ids: number[][];
    attention_mask: number[][];
    position_ids: number[][];
    pad_token_id: number;
  };
  tolerance: { logits_abs: number; logprobs_abs: number };
}

export function storiesDir(): string {
  return join(locateSharedDir(), 'fixtures', 'stories260k');
}

export function loadStoriesReference(): StoriesReference {
  return JSON.parse(readFileSync(join(storiesDir(), 'reference.json'), 'utf8')) as StoriesReference;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A Qwen3-shaped config at toy size: q/k norm, GQA 4:2, head_dim ≠ hidden/heads, untied head. */
export function qwen3ToyConfig(overrides: Record<string, unknown> = {}): LlamaFamilyConfig {
  return parseLlamaFamilyConfig({
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: 96,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    max_position_embeddings: 64,
    tie_word_embeddings: false,
    attention_bias: false,
    bos_token_id: null,
    eos_token_id: 95,
    ...overrides,
  });
}

/** A Qwen3-shaped toy model with the real Qwen3 tokenizer: full 151,936-row vocabulary, tiny trunk. */
export function qwen3ToyModelParts(seed = 3) {
  const config = qwen3ToyConfig({ vocab_size: 151_936, eos_token_id: 151_645 });
  const weights = createRandomLlamaWeights(config, seed, 1.5);
  const tokenizer = loadModelTokenizer(join(locateSharedDir(), 'tokenizers', 'qwen3'));
  return { config, weights, tokenizer };
}

/**
 * A Qwen3-shaped toy `Qwen3ForSequenceClassification` config (a reranker): the toy trunk with
 * `score.weight` [numLabels, 32] instead of lm_head; vocab 512 fits the stories260k tokenizer.
 */
export function classifierToyConfig(numLabels: number, overrides: Record<string, unknown> = {}) {
  return qwen3ToyConfig({
    architectures: ['Qwen3ForSequenceClassification'],
    vocab_size: 512,
    eos_token_id: 2,
    max_position_embeddings: 256,
    id2label: Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [String(i), `LABEL_${i}`])),
    pad_token_id: 0,
    ...overrides,
  });
}

/**
 * Writes an HF-layout classifier checkpoint (config.json + model.safetensors) of seeded random
 * weights: createRandomLlamaWeights already draws `score.weight` for such a config. `scoreRows`
 * writes a `score.weight` of that many rows instead, whatever the config says (a bad checkpoint).
 */
export function writeRandomClassifierCheckpoint(
  dir: string,
  config: LlamaFamilyConfig,
  options: { seed?: number; scoreRows?: number } = {},
): LlamaWeights {
  const weights = createRandomLlamaWeights(config, options.seed ?? 7, 1.5);
  const tensors = toWeightMap(config, weights);
  if (options.scoreRows !== undefined) {
    const shape = [options.scoreRows, config.hiddenSize];
    tensors.set('score.weight', { shape, data: new Float32Array(shape[0]! * shape[1]!) });
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(llamaConfigToJson(config), null, 2));
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return weights;
}
