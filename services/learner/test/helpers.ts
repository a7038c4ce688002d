import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildToyVocab, writeToyTokenizer } from '@verdict/data';
import {
  createRandomLlamaWeights,
  llamaConfigToJson,
  locateSharedDir,
  parseLlamaFamilyConfig,
  toWeightMap,
  writeSafetensors,
} from '@verdict/models';

/** A random-weight tiny Llama with the toy word-level tokenizer, as a Hugging Face folder. */
export function writeToyStudent(options: { seed?: number } = {}): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-toy-student-'));
  writeToyTokenizer(dir);
  const config = parseLlamaFamilyConfig({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: buildToyVocab().size,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 256,
    tie_word_embeddings: true,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
  });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(llamaConfigToJson(config), null, 2)}\n`);
  writeSafetensors(
    join(dir, 'model.safetensors'),
    toWeightMap(config, createRandomLlamaWeights(config, options.seed ?? 3, 0.5)),
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A copy of shared/fixtures/opt-tiny/<name> (a tiny random OPT: Galactica-shaped or OPT-350m-shaped)
 * with the toy tokenizer added: the fixtures have none, and the learner encodes text prompts. The
 * toy tokenizer's ids fit OPT's vocab of 1024 and its eos is OPT's (2).
 */
export function writeOptStudent(name: 'opt-tiny-galactica' | 'opt-tiny-350m-style' = 'opt-tiny-galactica'): {
  dir: string;
  cleanup: () => void;
} {
  const src = join(locateSharedDir(), 'fixtures', 'opt-tiny', name);
  if (!existsSync(join(src, 'config.json'))) {
    throw new Error(`opt-tiny fixture not found at ${src} (set VERDICT_SHARED_DIR to the shared folder)`);
  }
  const dir = mkdtempSync(join(tmpdir(), `verdict-${name}-`));
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(src, f), join(dir, f));
  writeToyTokenizer(dir);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
