import { checkWeightShapes } from './llama-weights.js';
import type { OptConfig } from './opt-config.js';
import { loadSafetensorsDir, type WeightMap } from './safetensors.js';

/** OPT parameters: plain Float32Arrays keyed by Hugging Face names (shapes from the config). */
export type OptWeights = Map<string, Float32Array>;

/** Every parameter the config implies, with its HF name and torch layout (Linear weights [out, in]). */
export function optWeightShapes(config: OptConfig): Map<string, readonly number[]> {
  const { hiddenSize: h, ffnDim: ff, vocabSize: v, wordEmbedProjDim: e } = config;
  const shapes = new Map<string, readonly number[]>();
  const d = 'model.decoder.';
  const layerNorm = (name: string) => {
    if (!config.layerNormAffine) return;
    shapes.set(`${name}.weight`, [h]);
    shapes.set(`${name}.bias`, [h]);
  };
  const linear = (name: string, out: number, inp: number) => {
    shapes.set(`${name}.weight`, [out, inp]);
    if (config.enableBias) shapes.set(`${name}.bias`, [out]);
  };
  shapes.set(`${d}embed_tokens.weight`, [v, e]);
  // HF OPTLearnedPositionalEmbedding keeps 2 extra rows: position p reads row p + 2.
  shapes.set(`${d}embed_positions.weight`, [config.maxPositionEmbeddings + 2, h]);
  if (e !== h) {
    shapes.set(`${d}project_in.weight`, [h, e]); // no bias in HF
    shapes.set(`${d}project_out.weight`, [e, h]);
  }
  for (let i = 0; i < config.numLayers; i++) {
    const p = `${d}layers.${i}.`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(`${p}self_attn.${proj}`, h, h);
    layerNorm(`${p}self_attn_layer_norm`);
    linear(`${p}fc1`, ff, h);
    linear(`${p}fc2`, h, ff);
    layerNorm(`${p}final_layer_norm`);
  }
  if (config.finalLayerNorm) layerNorm(`${d}final_layer_norm`);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [v, e]);
  return shapes;
}

/**
 * Checks a checkpoint against the config and keeps exactly the parameters the model uses. Names
 * saved from OPTModel rather than OPTForCausalLM (`decoder.…`, no `model.` prefix) are accepted,
 * as transformers accepts them. A missing tensor or a differing shape names the tensor and both shapes.
 */
export function checkOptWeights(config: OptConfig, tensors: WeightMap): OptWeights {
  return checkWeightShapes(
    optWeightShapes(config),
    (name) => tensors.get(name) ?? tensors.get(name.replace(/^model\./, '')),
  );
}

/** Loads and validates the weights in an OPT checkpoint folder (single or sharded safetensors). */
export function loadOptWeights(dir: string, config: OptConfig): OptWeights {
  return checkOptWeights(config, loadSafetensorsDir(dir));
}
