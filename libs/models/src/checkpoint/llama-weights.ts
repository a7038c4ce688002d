import { ModelError } from '../errors.js';
import type { LlamaFamilyConfig } from './llama-config.js';
import { loadSafetensorsDir, type WeightMap } from './safetensors.js';

/** Llama-family parameters: plain Float32Arrays keyed by Hugging Face names (shapes from the config). */
export type LlamaWeights = Map<string, Float32Array>;

/** Every parameter the config implies, with its Hugging Face name and torch `Linear` layout shape. */
export function llamaWeightShapes(config: LlamaFamilyConfig): Map<string, readonly number[]> {
  const { hiddenSize: h, intermediateSize: ff, headDim: d, numHeads, numKvHeads, vocabSize } = config;
  const shapes = new Map<string, readonly number[]>();
  shapes.set('model.embed_tokens.weight', [vocabSize, h]);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}.`;
    shapes.set(`${p}input_layernorm.weight`, [h]);
    shapes.set(`${p}self_attn.q_proj.weight`, [numHeads * d, h]);
    shapes.set(`${p}self_attn.k_proj.weight`, [numKvHeads * d, h]);
    shapes.set(`${p}self_attn.v_proj.weight`, [numKvHeads * d, h]);
    if (config.attentionBias) {
      shapes.set(`${p}self_attn.q_proj.bias`, [numHeads * d]);
      shapes.set(`${p}self_attn.k_proj.bias`, [numKvHeads * d]);
      shapes.set(`${p}self_attn.v_proj.bias`, [numKvHeads * d]);
    }
    shapes.set(`${p}self_attn.o_proj.weight`, [h, numHeads * d]);
    if (config.outputBias) shapes.set(`${p}self_attn.o_proj.bias`, [h]);
    if (config.qkNorm) {
      shapes.set(`${p}self_attn.q_norm.weight`, [d]);
      shapes.set(`${p}self_attn.k_norm.weight`, [d]);
    }
    shapes.set(`${p}post_attention_layernorm.weight`, [h]);
    shapes.set(`${p}mlp.gate_proj.weight`, [ff, h]);
    shapes.set(`${p}mlp.up_proj.weight`, [ff, h]);
    shapes.set(`${p}mlp.down_proj.weight`, [h, ff]);
    if (config.mlpBias) {
      shapes.set(`${p}mlp.gate_proj.bias`, [ff]);
      shapes.set(`${p}mlp.up_proj.bias`, [ff]);
      shapes.set(`${p}mlp.down_proj.bias`, [h]);
    }
  }
  shapes.set('model.norm.weight', [h]);
  // HF ...ForSequenceClassification has `score` (no bias) and no lm_head, tied or not.
  const head = config.sequenceClassification;
  if (head !== undefined) shapes.set('score.weight', [head.numLabels, h]);
  else if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [vocabSize, h]);
  return shapes;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Keeps exactly the tensors `shapes` names, each found by `find` (a family may accept other spellings
 * of a name); a missing tensor or a differing shape is one ModelError naming the tensor and both
 * shapes. The one check every family's weights go through.
 */
export function checkWeightShapes(
  shapes: ReadonlyMap<string, readonly number[]>,
  find: (name: string) => { readonly shape: readonly number[]; readonly data: Float32Array } | undefined,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, expected] of shapes) {
    const t = find(name);
    if (t === undefined) {
      throw new ModelError(
        'INVALID_CHECKPOINT',
        `checkpoint is missing tensor ${name} (expected shape ${fmt(expected)})`,
      );
    }
    const same = t.shape.length === expected.length && t.shape.every((n, i) => n === expected[i]);
    if (!same) {
      throw new ModelError(
        'SHAPE_MISMATCH',
        `tensor ${name} has shape ${fmt(t.shape)} but the config implies ${fmt(expected)}`,
      );
    }
    out.set(name, t.data);
  }
  return out;
}

/**
 * Checks a checkpoint against the config and keeps exactly the parameters the model uses.
 * A missing tensor or a shape that differs names the tensor, the expected and the actual shape.
 */
export function checkLlamaWeights(config: LlamaFamilyConfig, tensors: WeightMap): LlamaWeights {
  return checkWeightShapes(llamaWeightShapes(config), (name) => tensors.get(name));
}

/** Loads and validates the weights in a checkpoint folder (single or sharded safetensors). */
export function loadLlamaWeights(dir: string, config: LlamaFamilyConfig): LlamaWeights {
  return checkLlamaWeights(config, loadSafetensorsDir(dir));
}

/** Attaches config shapes to plain weights, e.g. to write them with `writeSafetensors`. */
export function toWeightMap(config: LlamaFamilyConfig, weights: LlamaWeights): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, shape] of llamaWeightShapes(config)) {
    const data = weights.get(name);
    if (data === undefined) throw new ModelError('INVALID_ARGUMENT', `weights are missing ${name}`);
    out.set(name, { shape, data });
  }
  return out;
}
