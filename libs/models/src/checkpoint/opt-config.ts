import { join } from 'node:path';
import { ModelError } from '../errors.js';
import { readJsonFile } from '../fs-util.js';

/** Feed-forward activations of OPT checkpoints this package builds (HF ACT2FN names). */
export const OPT_ACTIVATIONS = ['relu', 'gelu'] as const;
export type OptActivation = (typeof OPT_ACTIVATIONS)[number];

/**
 * Validated, camel-cased view of an OPT / Galactica `config.json` (`model_type: "opt"`). The
 * CausalLmConfig fields (numKvHeads, headDim, ...) are filled so generation treats it like any family.
 */
export interface OptConfig {
  readonly modelType: 'opt';
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly ffnDim: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** = numHeads: OPT has no grouped-query attention. */
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Learned positions; `embed_positions.weight` has this + 2 rows (HF's offset of 2). */
  readonly maxPositionEmbeddings: number;
  /** Width of the token embedding and the LM head; ≠ hiddenSize means project_in/project_out exist. */
  readonly wordEmbedProjDim: number;
  /** true: pre-LayerNorm (Galactica, OPT-125m/1.3b+); false: post-LayerNorm (OPT-350m). */
  readonly doLayerNormBefore: boolean;
  /** The decoder's final LayerNorm (HF: do_layer_norm_before and not _remove_final_layer_norm). */
  readonly finalLayerNorm: boolean;
  /** LayerNorms carry weight and bias (layer_norm_elementwise_affine). */
  readonly layerNormAffine: boolean;
  /** Biases on q/k/v/out_proj and fc1/fc2 (enable_bias). */
  readonly enableBias: boolean;
  readonly activation: OptActivation;
  readonly tieWordEmbeddings: boolean;
  /** torch.nn.LayerNorm's default; OPT configs do not set it. */
  readonly layerNormEps: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number | undefined;
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

function bool(c: Json, key: string, fallback: boolean): boolean {
  const v = c[key] ?? fallback;
  if (typeof v !== 'boolean') fail(key, `must be a boolean (got ${JSON.stringify(v)})`);
  return v;
}

function tokenId(c: Json, key: string): number | undefined {
  const v = c[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    fail(key, `must be a token id (got ${JSON.stringify(v)})`);
  return v;
}

function tokenIds(c: Json, key: string): number[] {
  const v = c[key];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      fail(key, `must be a token id or a list of them (got ${JSON.stringify(v)})`);
    }
  }
  return list as number[];
}

/**
 * Validates a parsed OPT `config.json`. Sizes have no defaults (a checkpoint that omits one is
 * broken, not small); flags take HF OPTConfig's defaults. A bad field names itself.
 */
export function parseOptConfig(raw: unknown): OptConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelError('INVALID_CONFIG', 'config.json must hold a JSON object');
  }
  const c = raw as Json;
  if (c['model_type'] !== 'opt') {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      `config.json: model_type ${JSON.stringify(c['model_type'])} is not "opt"`,
    );
  }
  const archs = c['architectures'];
  if (archs !== undefined && (!Array.isArray(archs) || archs.length !== 1 || archs[0] !== 'OPTForCausalLM')) {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      `unsupported architectures ${JSON.stringify(archs)} for model_type opt: expected ["OPTForCausalLM"]`,
    );
  }
  const act = c['activation_function'] ?? 'relu';
  if (typeof act !== 'string' || !(OPT_ACTIVATIONS as readonly string[]).includes(act)) {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      `config.json: activation_function ${JSON.stringify(act)} is not supported (supported: ${OPT_ACTIVATIONS.join(', ')})`,
    );
  }
  const hiddenSize = posInt(c, 'hidden_size');
  const numHeads = posInt(c, 'num_attention_heads');
  if (hiddenSize % numHeads !== 0) {
    fail('num_attention_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`);
  }
  const doLayerNormBefore = bool(c, 'do_layer_norm_before', true);
  return {
    modelType: 'opt',
    vocabSize: posInt(c, 'vocab_size'),
    hiddenSize,
    ffnDim: posInt(c, 'ffn_dim'),
    numLayers: posInt(c, 'num_hidden_layers'),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    maxPositionEmbeddings: posInt(c, 'max_position_embeddings'),
    wordEmbedProjDim: posInt(c, 'word_embed_proj_dim', hiddenSize),
    doLayerNormBefore,
    finalLayerNorm: doLayerNormBefore && !bool(c, '_remove_final_layer_norm', false),
    layerNormAffine: bool(c, 'layer_norm_elementwise_affine', true),
    enableBias: bool(c, 'enable_bias', true),
    activation: act as OptActivation,
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', true),
    layerNormEps: 1e-5,
    bosTokenId: tokenId(c, 'bos_token_id'),
    eosTokenIds: tokenIds(c, 'eos_token_id'),
    padTokenId: tokenId(c, 'pad_token_id'),
  };
}

/** Reads and validates `<dir>/config.json` as an OPT config. */
export function loadOptConfig(dir: string): OptConfig {
  return parseOptConfig(readJsonFile(join(dir, 'config.json'), 'model config'));
}

/**
 * The HF `config.json` object for a config (inverse of `parseOptConfig`), so a trained OPT
 * checkpoint loads in transformers and here. Dropout fields are left to HF's defaults (inference).
 */
export function optConfigToJson(config: OptConfig): Record<string, unknown> {
  const eos = config.eosTokenIds;
  return {
    architectures: ['OPTForCausalLM'],
    model_type: 'opt',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    ffn_dim: config.ffnDim,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    max_position_embeddings: config.maxPositionEmbeddings,
    word_embed_proj_dim: config.wordEmbedProjDim,
    do_layer_norm_before: config.doLayerNormBefore,
    // Only meaningful with pre-LN: HF builds the final LayerNorm iff pre-LN and not removed.
    _remove_final_layer_norm: config.doLayerNormBefore && !config.finalLayerNorm,
    layer_norm_elementwise_affine: config.layerNormAffine,
    enable_bias: config.enableBias,
    activation_function: config.activation,
    tie_word_embeddings: config.tieWordEmbeddings,
    ...(config.bosTokenId === undefined ? {} : { bos_token_id: config.bosTokenId }),
    ...(eos.length === 0 ? {} : { eos_token_id: eos.length === 1 ? eos[0] : [...eos] }),
    ...(config.padTokenId === undefined ? {} : { pad_token_id: config.padTokenId }),
    torch_dtype: 'float32',
  };
}
