import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createRng,
  locateSharedDir,
  modelTrainingFor,
  modelWeightMap,
  parseModelConfig,
  writeSafetensors,
} from '@verdict/models';

/**
 * Test support for the paper recipe's CPU smoke test: checkpoint folders with random weights in the
 * shapes (and HF tensor names) of the recipe's models, cut to a few layers. Never for training.
 */

/** facebook/galactica-125m's config.json (OPTForCausalLM: pre-LN, exact GELU, learned positions, tied). */
export const GALACTICA_125M_CONFIG = {
  architectures: ['OPTForCausalLM'],
  model_type: 'opt',
  activation_function: 'gelu',
  do_layer_norm_before: true,
  enable_bias: true,
  layer_norm_elementwise_affine: true,
  ffn_dim: 3072,
  hidden_size: 768,
  num_attention_heads: 12,
  num_hidden_layers: 12,
  max_position_embeddings: 2048,
  word_embed_proj_dim: 768,
  vocab_size: 50000,
  tie_word_embeddings: true,
  bos_token_id: 0,
  pad_token_id: 1,
  eos_token_id: 2,
  torch_dtype: 'float32',
} as const;

/** Qwen/Qwen3-8B's config.json, the recipe's judge (36 layers, width 4096, untied head). */
export const QWEN3_8B_CONFIG = {
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  hidden_size: 4096,
  intermediate_size: 12288,
  num_hidden_layers: 36,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 128,
  vocab_size: 151936,
  max_position_embeddings: 40960,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  hidden_act: 'silu',
  tie_word_embeddings: false,
  bos_token_id: 151643,
  eos_token_id: 151645,
  torch_dtype: 'bfloat16',
} as const;

/**
 * Qwen/Qwen3-0.6B's config.json: the width the smoke test's judge is cut to (Qwen3-8B cut to 2 layers
 * is still ~1.6B parameters with its untied 151,936 × 4096 head, too heavy for a 2-core CI).
 */
export const QWEN3_0_6B_CONFIG = {
  ...QWEN3_8B_CONFIG,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  tie_word_embeddings: true,
} as const;

/** A config.json object with fewer layers (everything else kept). */
export function withLayers<T extends { num_hidden_layers: number }>(raw: T, layers: number): T {
  return { ...raw, num_hidden_layers: layers };
}

/**
 * Random weights for every parameter the config's family declares (the family's own shape table, so
 * the names are the HF ones its loader checks): norm weights around 1, biases small, matrices
 * U(−a, a) with a = √(3 / fan_in).
 */
export function randomCheckpointWeights(raw: Record<string, unknown>, seed: number) {
  const config = parseModelConfig(raw);
  const rng = createRng(seed);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of modelTrainingFor(config).weightShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (/norm\.weight$/.test(name)) {
      for (let i = 0; i < n; i++) data[i] = 1 + 0.2 * (rng.next() - 0.5);
    } else if (name.endsWith('.bias')) {
      for (let i = 0; i < n; i++) data[i] = 0.02 * (rng.next() * 2 - 1);
    } else {
      const a = Math.sqrt(3 / (shape.length === 2 ? shape[1]! : shape[0]!));
      for (let i = 0; i < n; i++) data[i] = (rng.next() * 2 - 1) * a;
    }
    weights.set(name, data);
  }
  return { config, weights };
}

/**
 * Writes `dir/config.json` and `dir/model.safetensors` (F32 by default; 'F16' as the published
 * checkpoints ship in half precision, which the loader widens to float32). Returns the parameter count.
 */
export function writeRandomCheckpoint(
  dir: string,
  raw: Record<string, unknown>,
  seed: number,
  dtype: 'F32' | 'F16' = 'F32',
): number {
  mkdirSync(dir, { recursive: true });
  const { config, weights } = randomCheckpointWeights(raw, seed);
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(raw, null, 2)}\n`);
  writeSafetensors(join(dir, 'model.safetensors'), modelWeightMap(config, weights), {}, dtype);
  let params = 0;
  for (const w of weights.values()) params += w.length;
  return params;
}

export const GPT2_EOS = '<|endoftext|>';

/**
 * GPT-2's byte-level BPE (shared/tokenizers/gpt2: encoder.json + vocab.bpe) as a tokenizer.json with
 * exactly `vocabSize` ids: GPT-2 gives merge rank r the id 256 + r, so keeping ids < vocabSize − 1
 * keeps the first vocabSize − 257 merges, and `<|endoftext|>` takes the last id (Galactica's
 * 50,000-id vocabulary: its own tokenizer is not available here). Returns the EOS id.
 */
export function writeGpt2Tokenizer(dir: string, vocabSize: number): number {
  const src = join(locateSharedDir(), 'tokenizers', 'gpt2');
  const encoder = JSON.parse(readFileSync(join(src, 'encoder.json'), 'utf8')) as Record<string, number>;
  const lines = readFileSync(join(src, 'vocab.bpe'), 'utf8').split('\n').slice(1);
  const eosId = vocabSize - 1;
  const vocab: Record<string, number> = {};
  for (const [token, id] of Object.entries(encoder)) if (id < eosId) vocab[token] = id;
  vocab[GPT2_EOS] = eosId;
  const merges = lines.filter((l) => l.trim() !== '').slice(0, eosId - 256);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: eosId,
        content: GPT2_EOS,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      bos_token: GPT2_EOS,
      eos_token: GPT2_EOS,
      add_bos_token: false,
      model_max_length: 2048,
    }),
  );
  return eosId;
}

/** Copies the real Qwen3 tokenizer (shared/tokenizers/qwen3, chat template included) into `dir`. */
export function writeQwen3Tokenizer(dir: string): void {
  const src = join(locateSharedDir(), 'tokenizers', 'qwen3');
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    writeFileSync(join(dir, f), readFileSync(join(src, f)));
  }
}
