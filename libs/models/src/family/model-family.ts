import { join } from 'node:path';
import { ModelError } from '../errors.js';
import { readJsonFile } from '../fs-util.js';
import {
  createFamilyModel,
  type FamilyGraphs,
  type FamilyModel,
  type ModelOptions,
  type ModelWeights,
} from '../model/family-model.js';
import { loadModelTokenizer, type ModelTokenizer } from '../tokenizer/tokenizer.js';
import type { FamilyTraining } from './family-training.js';
import { llamaFamily } from './llama-family.js';
import type { CausalLmConfig } from './model-config.js';
import { optFamily } from './opt-family.js';

/**
 * One architecture family: how to read its `config.json`, its checkpoint and build its graphs.
 * Families are registered by Hugging Face `model_type` (as onnxruntime-js registers backends);
 * `loadModel` picks one from a checkpoint folder, everything after that is family-agnostic.
 */
export interface ModelFamily<C extends CausalLmConfig = CausalLmConfig> {
  /** Short name for messages ('llama', 'opt'). */
  readonly name: string;
  /** The `model_type` values of config.json this family loads. */
  readonly modelTypes: readonly string[];
  /** Validates a parsed config.json; a bad field is an INVALID_CONFIG naming it. */
  parseConfig(raw: unknown): C;
  /** Loads and checks the checkpoint's tensors (a missing tensor or shape mismatch names it). */
  loadWeights(dir: string, config: C): ModelWeights;
  /** Prefill, decode and judge graphs over these weights (the Llama graphs' names and conventions). */
  graphs(config: C, weights: ModelWeights): FamilyGraphs;
  /** The training forward, parameter list and config.json writer (libs/rl trains any family that has one). */
  readonly training?: FamilyTraining<C>;
}

const families = new Map<string, ModelFamily>();

/**
 * Makes a family loadable by its model types. Re-registering the same object is a no-op; a
 * model_type already served by another family is an error (no silent override).
 */
export function registerModelFamily<C extends CausalLmConfig>(family: ModelFamily<C>): void {
  for (const type of family.modelTypes) {
    const existing = families.get(type);
    if (existing !== undefined && existing !== family) {
      throw new ModelError(
        'INVALID_ARGUMENT',
        `model_type ${JSON.stringify(type)} is already registered by family ${existing.name}`,
      );
    }
  }
  for (const type of family.modelTypes) families.set(type, family as unknown as ModelFamily);
}

/** Every registered model_type, sorted. */
export function supportedModelTypes(): string[] {
  return [...families.keys()].sort();
}

/** The family registered for `modelType`; anything else is one UNSUPPORTED_ARCHITECTURE listing the supported types. */
export function modelFamilyFor(modelType: string): ModelFamily {
  const family = families.get(modelType);
  if (family === undefined) {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      `unsupported model_type ${JSON.stringify(modelType)}: supported are ${supportedModelTypes().join(', ')}`,
    );
  }
  return family;
}

function familyOf(raw: unknown): ModelFamily {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelError('INVALID_CONFIG', 'config.json must hold a JSON object');
  }
  const type = (raw as Record<string, unknown>)['model_type'];
  if (typeof type !== 'string') {
    throw new ModelError(
      'INVALID_CONFIG',
      `config.json: model_type must be a string (got ${JSON.stringify(type)}); supported are ${supportedModelTypes().join(', ')}`,
    );
  }
  return modelFamilyFor(type);
}

/** Validates a parsed config.json with the family its `model_type` names. */
export function parseModelConfig(raw: unknown): CausalLmConfig {
  return familyOf(raw).parseConfig(raw);
}

/** Reads `<dir>/config.json` and validates it with the family its `model_type` names. */
export function loadModelConfig(dir: string): CausalLmConfig {
  return parseModelConfig(readJsonFile(join(dir, 'config.json'), 'model config'));
}

export interface LoadModelOptions extends ModelOptions {
  /**
   * Use this tokenizer instead of the folder's tokenizer.json (e.g. a checkpoint shipped without
   * one, driven by token ids).
   */
  readonly tokenizer?: ModelTokenizer;
}

/**
 * Loads a Hugging Face checkpoint folder of any registered family: config.json (family by
 * model_type), safetensors and tokenizer. The model runs `generate()` and `judge()` like
 * `loadLlamaModel`'s, with the same options; for a Llama-family folder it is the same model.
 */
export function loadModel(dir: string, options: LoadModelOptions = {}): FamilyModel {
  const raw = readJsonFile(join(dir, 'config.json'), 'model config');
  const family = familyOf(raw);
  const config = family.parseConfig(raw);
  const weights = family.loadWeights(dir, config);
  const { tokenizer: given, ...modelOptions } = options;
  const tokenizer = given ?? loadModelTokenizer(dir);
  return createFamilyModel(config, weights, tokenizer, family.graphs(config, weights), modelOptions);
}

registerModelFamily(llamaFamily);
registerModelFamily(optFamily);
