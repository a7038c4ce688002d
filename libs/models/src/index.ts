export { ropeInverseFrequencies, ropeTables } from './arch/rope.js';
export {
  type LlamaFamilyConfig,
  type LlamaFamilyModelType,
  llamaConfigToJson,
  loadLlamaFamilyConfig,
  parseLlamaFamilyConfig,
  type RopeScaling,
  SUPPORTED_MODEL_TYPES,
} from './checkpoint/llama-config.js';
export {
  checkLlamaWeights,
  type LlamaWeights,
  llamaWeightShapes,
  loadLlamaWeights,
  toWeightMap,
} from './checkpoint/llama-weights.js';
export { createRandomLlamaWeights } from './checkpoint/random-weights.js';
export {
  loadSafetensorsDir,
  type NamedTensor,
  readSafetensors,
  type WeightMap,
  writeSafetensors,
} from './checkpoint/safetensors.js';
export { isModelError, ModelError, type ModelErrorCode } from './errors.js';
export { createRng, type Rng } from './generate/rng.js';
export {
  argmax,
  logProbOf,
  positionIdsFromMask,
  type ReferenceBatch,
  referenceForward,
  referenceGreedy,
} from './reference/llama-reference.js';
export { locateSharedDir } from './shared-dir.js';
export {
  type ChatMessage,
  type ChatTemplateOptions,
  createModelTokenizer,
  loadModelTokenizer,
  type ModelTokenizer,
} from './tokenizer/tokenizer.js';
