import {
  type LlamaFamilyConfig,
  parseLlamaFamilyConfig,
  SUPPORTED_MODEL_TYPES,
} from '../checkpoint/llama-config.js';
import { loadLlamaWeights } from '../checkpoint/llama-weights.js';
import { llamaGraphs } from '../model/llama-model.js';
import type { ModelFamily } from './model-family.js';

/** Llama, Mistral, Qwen2, Qwen3 (and SmolLM, which ships as llama): the graphs of arch/llama-graph.ts. */
export const llamaFamily: ModelFamily<LlamaFamilyConfig> = {
  name: 'llama',
  modelTypes: SUPPORTED_MODEL_TYPES,
  parseConfig: parseLlamaFamilyConfig,
  loadWeights: loadLlamaWeights,
  graphs: llamaGraphs,
};
