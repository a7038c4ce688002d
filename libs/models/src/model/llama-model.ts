import type { ExecutionProviderInfo } from '@verdict/graph';
import {
  buildLlamaClassifierGraph,
  buildLlamaDecodeGraph,
  buildLlamaInferenceGraph,
  buildLlamaJudgeGraph,
} from '../arch/llama-graphs.js';
import { type LlamaFamilyConfig, loadLlamaFamilyConfig } from '../checkpoint/llama-config.js';
import { type LlamaWeights, loadLlamaWeights } from '../checkpoint/llama-weights.js';
import type { CausalLm, StepInput } from '../generate/causal-lm.js';
import type { KvBufferCache } from '../generate/kv-buffer-causal-lm.js';
import type { JudgeModel } from '../judge/judge.js';
import { loadModelTokenizer, type ModelTokenizer } from '../tokenizer/tokenizer.js';
import { createFamilyModel, type FamilyGraphs, type ModelOptions } from './family-model.js';

/**
 * The KV cache between steps: `present.N.key|value` tensors per layer, [batch, kv_heads, capacity,
 * head_dim], of which the first `length` positions are filled (see createKvBufferCausalLm).
 */
export type KvCache = KvBufferCache;

/** A Llama-family model running on ONNX Runtime through @verdict/graph's worker pool. */
export interface LlamaModel extends CausalLm<KvCache>, JudgeModel {
  readonly weights: LlamaWeights;
  compactCache(cache: KvCache, rows: readonly number[], dropPositions: number): KvCache;
  /**
   * Loads the generation sessions (prefill/Concat and KV-buffer decode) now rather than on first
   * use, so a server can install a model whose graphs are known to load.
   */
  loadGenerationSessions(): Promise<void>;
  /** Provider of the first session loaded (generation or judge); undefined until one is loaded. */
  readonly executionProvider?: ExecutionProviderInfo | undefined;
  /** Only for a sequence-classification checkpoint: see FamilyModel.classifyLast and classify(). */
  classifyLast?(input: StepInput): Promise<Float32Array>;
}

/** Options of a model of any family (see ModelOptions); the name predates the family registry. */
export type LlamaModelOptions = ModelOptions;

/**
 * The Llama family's graphs (prefill with 'last' logits, KV-buffer decode, judge with a past-KV
 * input; a sequence-classification checkpoint adds `classify` and its LM graphs refuse to build) over given weights.
 */
export function llamaGraphs(config: LlamaFamilyConfig, weights: LlamaWeights): FamilyGraphs {
  return {
    prefill: () => buildLlamaInferenceGraph(config, weights, { logits: 'last' }),
    decode: () => buildLlamaDecodeGraph(config, weights),
    judge: () => buildLlamaJudgeGraph(config, weights, { pastKeyValues: true }),
    judgeTakesPast: true,
    ...(config.sequenceClassification === undefined
      ? {}
      : { classify: () => buildLlamaClassifierGraph(config, weights) }),
  };
}

export function createLlamaModel(
  config: LlamaFamilyConfig,
  weights: LlamaWeights,
  tokenizer: ModelTokenizer,
  options: LlamaModelOptions = {},
): LlamaModel {
  return createFamilyModel(config, weights, tokenizer, llamaGraphs(config, weights), options);
}

/** Loads config.json, safetensors and tokenizer from a Hugging Face model folder. */
export function loadLlamaModel(dir: string, options: LlamaModelOptions = {}): LlamaModel {
  const config = loadLlamaFamilyConfig(dir);
  const weights = loadLlamaWeights(dir, config);
  const tokenizer = loadModelTokenizer(dir);
  return createLlamaModel(config, weights, tokenizer, options);
}
