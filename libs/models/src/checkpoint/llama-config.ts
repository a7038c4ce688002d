import { join } from 'node:path';
import { ModelError } from '../errors.js';
import { readJsonFile } from '../fs-util.js';

/** Hugging Face `model_type`s of the Llama family this package builds. SmolLM ships as `llama`. */
export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2', 'qwen3'] as const;
export type LlamaFamilyModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

const ARCHITECTURE_OF: Record<LlamaFamilyModelType, string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
};

/** HF `...ForSequenceClassification`: the same trunk, `score.weight` [num_labels, hidden] instead of lm_head. */
const CLASSIFIER_ARCHITECTURE_OF: Record<LlamaFamilyModelType, string> = {
  llama: 'LlamaForSequenceClassification',
  mistral: 'MistralForSequenceClassification',
  qwen2: 'Qwen2ForSequenceClassification',
  qwen3: 'Qwen3ForSequenceClassification',
};

/** The classification head of a `...ForSequenceClassification` checkpoint (e.g. a reranker). */
export interface SequenceClassificationHead {
  /** Rows of `score.weight`: HF `num_labels`, i.e. the size of `id2label` (HF default 2). */
  readonly numLabels: number;
  /**
   * HF `pad_token_id`. HF reads the token before the first pad; the graph reads the attention
   * mask's last real token instead, which is the same for unpadded text and also right for
   * left padding and for a pad id that occurs in the text (pad = eos).
   */
  readonly padTokenId: number | undefined;
}

/** RoPE frequency scaling. `llama3` is the Llama 3.1+ piecewise rule; `linear` divides positions. */
export type RopeScaling =
  | { readonly type: 'none' }
  | { readonly type: 'linear'; readonly factor: number }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositionEmbeddings: number;
    };

/** Validated, camel-cased view of a Llama-family `config.json`. */
export interface LlamaFamilyConfig {
  readonly modelType: LlamaFamilyModelType;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling;
  readonly maxPositionEmbeddings: number;
  readonly tieWordEmbeddings: boolean;
  /** Bias on q/k/v projections (Qwen2 always; Llama when `attention_bias`). */
  readonly attentionBias: boolean;
  /** Bias on o_proj (Llama `attention_bias` covers it; Qwen2 has none). */
  readonly outputBias: boolean;
  readonly mlpBias: boolean;
  /** Per-head RMSNorm on q and k before RoPE (Qwen3). */
  readonly qkNorm: boolean;
  readonly bosTokenId: number | undefined;
  readonly eosTokenIds: readonly number[];
  /**
   * Mistral / Qwen sliding-window attention span. The engine attends to the full causal past,
   * which equals sliding-window attention only while sequences fit the window, so
   * `maxSequenceLength` caps sequences at it.
   */
  readonly slidingWindow: number | undefined;
  /**
   * Present for a `...ForSequenceClassification` checkpoint: no LM head (it cannot generate or
   * judge), `score.weight` read at the last real token (see buildLlamaClassifierGraph).
   */
  readonly sequenceClassification?: SequenceClassificationHead;
}

type Json = Record<string, unknown>;

function fail(field: string, message: string): never {
  throw new ModelError('INVALID_CONFIG', `config.json: ${field} ${message}`);
}

function posInt(c: Json, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    fail(key, `must be a positive integer (got ${JSON.stringify(v)})`);
  }
  return v;
}

function posNumber(c: Json, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    fail(key, `must be a positive finite number (got ${JSON.stringify(v)})`);
  }
  return v;
}

function bool(c: Json, key: string, fallback: boolean): boolean {
  const v = c[key] ?? fallback;
  if (typeof v !== 'boolean') fail(key, `must be a boolean (got ${JSON.stringify(v)})`);
  return v;
}

function tokenIds(v: unknown, key: string): number[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      fail(key, `must be a token id or a list of them (got ${JSON.stringify(v)})`);
    }
  }
  return list as number[];
}

function parseRopeScaling(v: unknown): RopeScaling {
  if (v === undefined || v === null) return { type: 'none' };
  if (typeof v !== 'object') fail('rope_scaling', 'must be an object or null');
  const r = v as Json;
  const type = r['rope_type'] ?? r['type'];
  if (type === 'default') return { type: 'none' };
  if (type === 'linear') return { type: 'linear', factor: posNumber(r, 'factor') };
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor: posNumber(r, 'factor'),
      lowFreqFactor: posNumber(r, 'low_freq_factor'),
      highFreqFactor: posNumber(r, 'high_freq_factor'),
      originalMaxPositionEmbeddings: posInt(r, 'original_max_position_embeddings'),
    };
  }
  throw new ModelError(
    'UNSUPPORTED_ARCHITECTURE',
    `config.json: rope_scaling type ${JSON.stringify(type)} is not supported (supported: default, linear, llama3)`,
  );
}

/** Validates a parsed `config.json` object. Unsupported families fail with UNSUPPORTED_ARCHITECTURE. */
export function parseLlamaFamilyConfig(raw: unknown): LlamaFamilyConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelError('INVALID_CONFIG', 'config.json must hold a JSON object');
  }
  const c = raw as Json;
  const modelType = c['model_type'];
  if (typeof modelType !== 'string' || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      `unsupported model_type ${JSON.stringify(modelType)}: supported are ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
  }
  const type = modelType as LlamaFamilyModelType;
  const archs = c['architectures'];
  const accepted = [ARCHITECTURE_OF[type], CLASSIFIER_ARCHITECTURE_OF[type]];
  if (archs !== undefined && !(Array.isArray(archs) && archs.length === 1 && accepted.includes(archs[0]))) {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      `unsupported architectures ${JSON.stringify(archs)} for model_type ${type}: expected ["${accepted[0]}"] or ["${accepted[1]}"]`,
    );
  }
  const classifier = Array.isArray(archs) && archs[0] === accepted[1];
  const act = c['hidden_act'] ?? 'silu';
  if (act !== 'silu') {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      `config.json: hidden_act ${JSON.stringify(act)} is not supported (only silu)`,
    );
  }
  const hiddenSize = posInt(c, 'hidden_size');
  const numHeads = posInt(c, 'num_attention_heads');
  const numKvHeads = posInt(c, 'num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    fail('num_key_value_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  }
  const defaultHeadDim = hiddenSize % numHeads === 0 ? hiddenSize / numHeads : undefined;
  const headDim = posInt(c, 'head_dim', defaultHeadDim);
  if (headDim % 2 !== 0) fail('head_dim', `must be even for RoPE (got ${headDim})`);
  if (c['partial_rotary_factor'] !== undefined && c['partial_rotary_factor'] !== 1) {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      'config.json: partial_rotary_factor other than 1 is not supported',
    );
  }
  const llamaBias = bool(c, 'attention_bias', false);
  return {
    modelType: type,
    vocabSize: posInt(c, 'vocab_size'),
    hiddenSize,
    intermediateSize: posInt(c, 'intermediate_size'),
    numLayers: posInt(c, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: posNumber(c, 'rms_norm_eps', 1e-6),
    ropeTheta: posNumber(c, 'rope_theta', 10000),
    ropeScaling: parseRopeScaling(c['rope_scaling']),
    maxPositionEmbeddings: posInt(c, 'max_position_embeddings', 2048),
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', false),
    attentionBias: type === 'qwen2' ? true : llamaBias,
    outputBias: type === 'qwen2' ? false : llamaBias,
    mlpBias: type === 'llama' ? bool(c, 'mlp_bias', false) : false,
    qkNorm: type === 'qwen3',
    bosTokenId: tokenIds(c['bos_token_id'], 'bos_token_id')[0],
    eosTokenIds: tokenIds(c['eos_token_id'], 'eos_token_id'),
    slidingWindow: slidingWindowOf(type, c),
    ...(classifier ? { sequenceClassification: classificationHeadOf(c) } : {}),
  };
}

/** HF stores `id2label` (num_labels is its size); `num_labels` itself is accepted too. */
function classificationHeadOf(c: Json): SequenceClassificationHead {
  const id2label = c['id2label'];
  let numLabels: number;
  if (id2label !== undefined && id2label !== null) {
    if (typeof id2label !== 'object' || Array.isArray(id2label)) fail('id2label', 'must be an object');
    numLabels = Object.keys(id2label).length;
    if (numLabels === 0) fail('id2label', 'must name at least one label');
    if (c['num_labels'] !== undefined && c['num_labels'] !== numLabels)
      fail(
        'num_labels',
        `(${JSON.stringify(c['num_labels'])}) must equal the size of id2label (${numLabels})`,
      );
  } else {
    numLabels = posInt(c, 'num_labels', 2);
  }
  return { numLabels, padTokenId: tokenIds(c['pad_token_id'], 'pad_token_id')[0] };
}

function slidingWindowOf(type: LlamaFamilyModelType, c: Json): number | undefined {
  const sw = c['sliding_window'];
  if (sw === undefined || sw === null) return undefined;
  const used =
    type === 'mistral' || ((type === 'qwen2' || type === 'qwen3') && c['use_sliding_window'] === true);
  return used ? posInt(c, 'sliding_window') : undefined;
}

/** The longest sequence (prompt + generated) the engine runs for a config, and the field that sets it. */
export function maxSequenceLength(
  config: Pick<LlamaFamilyConfig, 'maxPositionEmbeddings'> & { readonly slidingWindow?: number | undefined },
): { limit: number; field: string } {
  if (config.slidingWindow !== undefined && config.slidingWindow < config.maxPositionEmbeddings) {
    return { limit: config.slidingWindow, field: 'sliding_window' };
  }
  return { limit: config.maxPositionEmbeddings, field: 'max_position_embeddings' };
}

/** Reads and validates `<dir>/config.json`. */
export function loadLlamaFamilyConfig(dir: string): LlamaFamilyConfig {
  return parseLlamaFamilyConfig(readJsonFile(join(dir, 'config.json'), 'model config'));
}

/** The HF `config.json` object for a config (inverse of `parseLlamaFamilyConfig`). */
export function llamaConfigToJson(config: LlamaFamilyConfig): Record<string, unknown> {
  const s = config.ropeScaling;
  const ropeScaling =
    s.type === 'none'
      ? null
      : s.type === 'linear'
        ? { rope_type: 'linear', factor: s.factor }
        : {
            rope_type: 'llama3',
            factor: s.factor,
            low_freq_factor: s.lowFreqFactor,
            high_freq_factor: s.highFreqFactor,
            original_max_position_embeddings: s.originalMaxPositionEmbeddings,
          };
  const head = config.sequenceClassification;
  return {
    architectures: [(head ? CLASSIFIER_ARCHITECTURE_OF : ARCHITECTURE_OF)[config.modelType]],
    model_type: config.modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    hidden_act: 'silu',
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: ropeScaling,
    max_position_embeddings: config.maxPositionEmbeddings,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_bias: config.modelType === 'qwen2' ? undefined : config.attentionBias,
    mlp_bias: config.mlpBias,
    bos_token_id: config.bosTokenId ?? null,
    eos_token_id: config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds,
    ...(config.slidingWindow === undefined
      ? {}
      : {
          sliding_window: config.slidingWindow,
          use_sliding_window: config.modelType === 'mistral' ? undefined : true,
        }),
    ...(head === undefined
      ? {}
      : {
          id2label: Object.fromEntries(Array.from({ length: head.numLabels }, (_, i) => [i, `LABEL_${i}`])),
          pad_token_id: head.padTokenId ?? null,
        }),
    torch_dtype: 'float32',
  };
}
