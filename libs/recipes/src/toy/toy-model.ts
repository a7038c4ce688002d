import { buildToyVocab } from '@verdict/data';
import { type LlamaFamilyConfig, parseLlamaFamilyConfig } from '@verdict/models';
import type { ToyModelDims } from './toy-recipe-config.js';

/** Longest judge prompt in the toy world is ~200 tokens; 512 leaves room for long student samples. */
export const TOY_MAX_POSITIONS = 512;

/** A Llama config for the toy tokenizer (`<pad>=0 <s>=1 </s>=2`), tied embeddings. */
export function toyLlamaConfig(dims: ToyModelDims): LlamaFamilyConfig {
  if (dims.hiddenSize % dims.numHeads !== 0) {
    throw new RangeError(`hiddenSize ${dims.hiddenSize} is not divisible by numHeads ${dims.numHeads}`);
  }
  return parseLlamaFamilyConfig({
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    vocab_size: buildToyVocab().size,
    hidden_size: dims.hiddenSize,
    intermediate_size: dims.intermediateSize,
    num_hidden_layers: dims.numLayers,
    num_attention_heads: dims.numHeads,
    num_key_value_heads: dims.numHeads,
    max_position_embeddings: TOY_MAX_POSITIONS,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
    torch_dtype: 'float32',
  });
}

/** Parameter count (embeddings counted once: they are tied). */
export function countParams(config: LlamaFamilyConfig): number {
  const h = config.hiddenSize;
  const perLayer = 4 * h * h + 3 * h * config.intermediateSize + 2 * h;
  return config.vocabSize * h + config.numLayers * perLayer + h;
}
