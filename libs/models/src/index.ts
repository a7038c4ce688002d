export {
  declareLlamaParams,
  type KvPair,
  type LlamaParams,
  llamaTrunk,
  lmHeadWeight,
  type TrunkInputs,
  type TrunkOutputs,
} from './arch/llama-graph.js';
export {
  buildLlamaClassifierGraph,
  buildLlamaDecodeGraph,
  buildLlamaInferenceGraph,
  buildLlamaJudgeGraph,
  type InferenceGraphOptions,
  type JudgeGraphOptions,
} from './arch/llama-graphs.js';
export {
  declareOptParams,
  type OptParams,
  type OptTrunkInputs,
  type OptTrunkOutputs,
  optLmHeadWeight,
  optPositionRows,
  optTrunk,
} from './arch/opt-graph.js';
export { buildOptDecodeGraph, buildOptInferenceGraph, buildOptJudgeGraph } from './arch/opt-graphs.js';
export { ropeInverseFrequencies, ropeTables } from './arch/rope.js';
export {
  type LlamaFamilyConfig,
  type LlamaFamilyModelType,
  llamaConfigToJson,
  loadLlamaFamilyConfig,
  maxSequenceLength,
  parseLlamaFamilyConfig,
  type RopeScaling,
  type SequenceClassificationHead,
  SUPPORTED_MODEL_TYPES,
} from './checkpoint/llama-config.js';
export {
  checkLlamaWeights,
  type LlamaWeights,
  llamaWeightShapes,
  loadLlamaWeights,
  toWeightMap,
} from './checkpoint/llama-weights.js';
export {
  loadOptConfig,
  OPT_ACTIVATIONS,
  type OptActivation,
  type OptConfig,
  optConfigToJson,
  parseOptConfig,
} from './checkpoint/opt-config.js';
export {
  checkOptWeights,
  loadOptWeights,
  type OptWeights,
  optWeightShapes,
} from './checkpoint/opt-weights.js';
export { createRandomLlamaWeights } from './checkpoint/random-weights.js';
export {
  encodeSafetensors,
  f32ToF16Bits,
  loadSafetensorsDir,
  type NamedTensor,
  readSafetensors,
  type WeightMap,
  type WriteDtype,
  writeSafetensors,
} from './checkpoint/safetensors.js';
export { isModelError, ModelError, type ModelErrorCode } from './errors.js';
export {
  type FamilyTraining,
  loadModelWeights,
  modelTrainingFor,
  modelWeightMap,
  type TrainingForward,
  type TrainingForwardInputs,
} from './family/family-training.js';
export { llamaFamily, llamaTraining } from './family/llama-family.js';
export type { CausalLmConfig } from './family/model-config.js';
export {
  type LoadModelOptions,
  loadModel,
  loadModelConfig,
  type ModelFamily,
  modelFamilyFor,
  parseModelConfig,
  registerModelFamily,
  supportedModelTypes,
} from './family/model-family.js';
export { optFamily, optGraphs, optTraining } from './family/opt-family.js';
export type { CausalLm, StepInput, StepOutput } from './generate/causal-lm.js';
export {
  type FinishReason,
  type GenerateOptions,
  type Generation,
  generate,
  type Prompt,
  type RowOptions,
  type TokenEvent,
} from './generate/generate.js';
export {
  createIncrementalText,
  type IncrementalText,
  stopPrefixHoldback,
} from './generate/incremental-text.js';
export {
  createKvBufferCausalLm,
  createKvBufferEngine,
  type KvBufferCache,
  type KvBufferCausalLmOptions,
  type KvBufferEngine,
  type KvBufferGraphs,
} from './generate/kv-buffer-causal-lm.js';
export { createRng, type Rng } from './generate/rng.js';
export {
  checkSamplingOptions,
  logSoftmaxAt,
  type SamplingOptions,
  sampleToken,
} from './generate/sampling.js';
export {
  type ClassifierModel,
  type ClassifyOptions,
  type ClassifyResult,
  classify,
} from './judge/classify.js';
export {
  type JudgeItem,
  type JudgeModel,
  type JudgeOptions,
  type JudgeResult,
  type JudgeScores,
  judge,
  type PrefixKv,
} from './judge/judge.js';
export {
  encodeJudgePrompt,
  findVerdictTokenId,
  findYesNoTokenIds,
  JUDGE_INSTRUCTION,
  JUDGE_TEMPLATE_NAMES,
  type JudgeTemplateName,
  renderJudgePrompt,
  resolveJudgeTemplate,
} from './judge/judge-prompt.js';
export { leftPadBatch } from './judge/prompt-batches.js';
export { hasSharedPrefixJudging, planSharedPrefixes, type SharedPlan } from './judge/shared-prefix.js';
export { type ExportOptions, type ExportResult, exportLlamaOnnx } from './model/export-onnx.js';
export {
  createFamilyModel,
  type FamilyGraphs,
  type FamilyModel,
  type ModelOptions,
  type ModelWeights,
} from './model/family-model.js';
export type { WeightsRole } from './model/held-weights.js';
export {
  createLlamaModel,
  type KvCache,
  type LlamaModel,
  type LlamaModelOptions,
  llamaGraphs,
  loadLlamaModel,
} from './model/llama-model.js';
export {
  argmax,
  logProbOf,
  positionIdsFromMask,
  type ReferenceBatch,
  referenceForward,
  referenceGreedy,
  referenceHiddenStates,
} from './reference/llama-reference.js';
export { locateSharedDir } from './shared-dir.js';
export {
  type ChatMessage,
  type ChatTemplateOptions,
  createModelTokenizer,
  loadModelTokenizer,
  type ModelTokenizer,
} from './tokenizer/tokenizer.js';
