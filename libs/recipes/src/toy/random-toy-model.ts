import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildToyVocab, writeToyTokenizer } from '@verdict/data';
import {
  createRandomLlamaWeights,
  llamaConfigToJson,
  parseLlamaFamilyConfig,
  toWeightMap,
  writeSafetensors,
} from '@verdict/models';

export interface RandomToyModelOptions {
  readonly hiddenSize: number;
  readonly layers: number;
  readonly maxPositions: number;
  readonly seed: number;
  /** Scale of the random init: larger gives peakier (more decisive) next-token distributions. */
  readonly scale?: number;
  readonly numHeads?: number;
  readonly numKvHeads?: number;
}

/**
 * Writes a random-weight tiny Llama with the toy word-level tokenizer (single-token " Yes"/" No")
 * as a Hugging Face folder (config.json, model.safetensors, tokenizer files), so in-process apps
 * and child processes load it the same way. Stand-in student/judge for tests and `verdict up --toy`.
 */
export function writeRandomToyModel(dir: string, o: RandomToyModelOptions): string {
  mkdirSync(dir, { recursive: true });
  writeToyTokenizer(dir);
  const config = parseLlamaFamilyConfig({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: buildToyVocab().size,
    hidden_size: o.hiddenSize,
    intermediate_size: 2 * o.hiddenSize,
    num_hidden_layers: o.layers,
    num_attention_heads: o.numHeads ?? 2,
    num_key_value_heads: o.numKvHeads ?? 1,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: o.maxPositions,
    tie_word_embeddings: true,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
  });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(llamaConfigToJson(config), null, 2)}\n`);
  writeSafetensors(
    join(dir, 'model.safetensors'),
    toWeightMap(config, createRandomLlamaWeights(config, o.seed, o.scale ?? 1)),
  );
  return dir;
}
