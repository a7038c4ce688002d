import type { GraphBuilder, Value } from '@verdict/graph';
import type { WeightMap } from '../checkpoint/safetensors.js';
import { ModelError } from '../errors.js';
import type { ModelWeights } from '../model/family-model.js';
import type { CausalLmConfig } from './model-config.js';
import { modelFamilyFor } from './model-family.js';

/** The token inputs a training (or scoring) forward reads, all int64 [batch, seq]. */
export interface TrainingForwardInputs {
  readonly inputIds: Value;
  /** 1 = attend. Families with learned positions (OPT) derive positions from it. */
  readonly attentionMask: Value;
  /** RoPE families read it; families that number positions from the mask ignore it. */
  readonly positionIds: Value;
}

export interface TrainingForward {
  /** Hidden states at the LM head's input [batch, seq, `hiddenWidth(config)`]. */
  readonly hidden: Value;
  /** The LM head weight [vocab, hiddenWidth] (the token embedding when tied); logits = hidden · Wᵀ. */
  readonly lmHeadWeight: Value;
}

/**
 * What a learner needs from a family, beside loading: the parameters as graph inputs under their HF
 * names, the same trunk the inference graphs use (one architecture definition per family), the
 * parameter list, and config.json for a saved checkpoint. Everything is keyed by HF name, so the
 * optimizer, checkpoints and weight broadcasts treat every family alike.
 */
export interface FamilyTraining<C extends CausalLmConfig = CausalLmConfig> {
  /** Every parameter the config implies: HF name → shape (torch layout), in a stable order. */
  weightShapes(config: C): Map<string, readonly number[]>;
  /** Declares the parameters: initializers with `weights`, graph inputs-to-be without. */
  declareParams(
    g: GraphBuilder,
    config: C,
    weights: ReadonlyMap<string, Float32Array> | undefined,
  ): ReadonlyMap<string, Value>;
  /** The trunk (final norm / projections included) and the LM head weight, over declared params. */
  forward(
    g: GraphBuilder,
    config: C,
    params: ReadonlyMap<string, Value>,
    inputs: TrainingForwardInputs,
  ): TrainingForward;
  /** Width of `hidden` (what a value head on the trunk reads). */
  hiddenWidth(config: C): number;
  /** The HF config.json object (parses back to an equal config with the family's parseConfig). */
  configToJson(config: C): Record<string, unknown>;
}

/** The training part of the family that `config.modelType` names (UNSUPPORTED_ARCHITECTURE if none). */
export function modelTrainingFor(config: CausalLmConfig): FamilyTraining {
  const family = modelFamilyFor(config.modelType);
  if (family.training === undefined) {
    throw new ModelError(
      'UNSUPPORTED_ARCHITECTURE',
      `model family ${family.name} (model_type ${JSON.stringify(config.modelType)}) has no training graph`,
    );
  }
  return family.training;
}

/** Loads and checks a checkpoint folder's weights with the family `config` belongs to. */
export function loadModelWeights(dir: string, config: CausalLmConfig): ModelWeights {
  return modelFamilyFor(config.modelType).loadWeights(dir, config);
}

/** Attaches the family's shapes to plain weights (exactly its parameters), e.g. to write model.safetensors. */
export function modelWeightMap(
  config: CausalLmConfig,
  weights: ReadonlyMap<string, Float32Array>,
): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, shape] of modelTrainingFor(config).weightShapes(config)) {
    const data = weights.get(name);
    if (data === undefined) throw new ModelError('INVALID_ARGUMENT', `weights are missing ${name}`);
    out.set(name, { shape, data });
  }
  return out;
}
