import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildToyVocab, writeToyTokenizer } from '@verdict/data';
import {
  createRandomLlamaWeights,
  llamaConfigToJson,
  parseLlamaFamilyConfig,
  toWeightMap,
  writeSafetensors,
} from '@verdict/models';

export interface ToyModelOptions {
  readonly hiddenSize: number;
  readonly layers: number;
  readonly maxPositions: number;
  readonly seed: number;
  readonly scale: number;
}

/**
 * A random-weight tiny Llama with the toy word-level tokenizer (single-token " Yes"/" No"), written
 * as a Hugging Face folder so in-process apps and child processes load it the same way.
 */
export function writeToyModel(prefix: string, o: ToyModelOptions): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `verdict-e2e-${prefix}-`));
  writeToyTokenizer(dir);
  const config = parseLlamaFamilyConfig({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: buildToyVocab().size,
    hidden_size: o.hiddenSize,
    intermediate_size: o.hiddenSize * 2,
    num_hidden_layers: o.layers,
    num_attention_heads: 2,
    num_key_value_heads: 1,
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
    toWeightMap(config, createRandomLlamaWeights(config, o.seed, o.scale)),
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The tiny student (policy) and judge of the end-to-end tests. */
export function writeToyStudent() {
  return writeToyModel('student', { hiddenSize: 16, layers: 1, maxPositions: 256, seed: 3, scale: 0.5 });
}

export function writeToyJudge() {
  return writeToyModel('judge', { hiddenSize: 32, layers: 2, maxPositions: 512, seed: 11, scale: 1.5 });
}
