import { declareLlamaParams, llamaTrunk, lmHeadWeight } from '../arch/llama-graph.js';
import {
  type LlamaFamilyConfig,
  llamaConfigToJson,
  parseLlamaFamilyConfig,
  SUPPORTED_MODEL_TYPES,
} from '../checkpoint/llama-config.js';
import { llamaWeightShapes, loadLlamaWeights } from '../checkpoint/llama-weights.js';
import { llamaGraphs } from '../model/llama-model.js';
import type { FamilyTraining } from './family-training.js';
import type { ModelFamily } from './model-family.js';

/** Training over `llamaTrunk`, the definition the inference graphs use (RoPE reads position_ids). */
export const llamaTraining: FamilyTraining<LlamaFamilyConfig> = {
  weightShapes: llamaWeightShapes,
  declareParams: declareLlamaParams,
  forward(g, config, params, inputs) {
    const { hidden } = llamaTrunk(g, config, params, inputs);
    return { hidden, lmHeadWeight: lmHeadWeight(config, params) };
  },
  hiddenWidth: (config) => config.hiddenSize,
  configToJson: llamaConfigToJson,
};

/** Llama, Mistral, Qwen2, Qwen3 (and SmolLM, which ships as llama): the graphs of arch/llama-graph.ts. */
export const llamaFamily: ModelFamily<LlamaFamilyConfig> = {
  name: 'llama',
  modelTypes: SUPPORTED_MODEL_TYPES,
  parseConfig: parseLlamaFamilyConfig,
  loadWeights: loadLlamaWeights,
  graphs: llamaGraphs,
  training: llamaTraining,
};
