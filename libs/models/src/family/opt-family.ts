import { declareOptParams, optLmHeadWeight, optTrunk } from '../arch/opt-graph.js';
import { buildOptDecodeGraph, buildOptInferenceGraph, buildOptJudgeGraph } from '../arch/opt-graphs.js';
import { type OptConfig, optConfigToJson, parseOptConfig } from '../checkpoint/opt-config.js';
import { loadOptWeights, type OptWeights, optWeightShapes } from '../checkpoint/opt-weights.js';
import type { FamilyGraphs } from '../model/family-model.js';
import type { FamilyTraining } from './family-training.js';
import type { ModelFamily } from './model-family.js';

/** The OPT family's graphs (prefill with 'last' logits, KV-buffer decode, judge) over given weights. */
export function optGraphs(config: OptConfig, weights: OptWeights): FamilyGraphs {
  return {
    prefill: () => buildOptInferenceGraph(config, weights, { logits: 'last' }),
    decode: () => buildOptDecodeGraph(config, weights),
    judge: () => buildOptJudgeGraph(config, weights),
  };
}

/**
 * Training over `optTrunk`, the definition the inference graphs use. `positionIds` is ignored:
 * learned positions come from the attention mask inside the trunk (as at inference), so a
 * left-padded training row scores exactly like the rollout that produced it.
 */
export const optTraining: FamilyTraining<OptConfig> = {
  weightShapes: optWeightShapes,
  declareParams: declareOptParams,
  forward(g, config, params, inputs) {
    const { hidden } = optTrunk(g, config, params, {
      inputIds: inputs.inputIds,
      attentionMask: inputs.attentionMask,
    });
    return { hidden, lmHeadWeight: optLmHeadWeight(config, params) };
  },
  // project_out (when present) maps the trunk back to the embedding width before the head.
  hiddenWidth: (config) => config.wordEmbedProjDim,
  configToJson: optConfigToJson,
};

/** OPT and Galactica (HF OPTForCausalLM): the graphs of arch/opt-graph.ts. */
export const optFamily: ModelFamily<OptConfig> = {
  name: 'opt',
  modelTypes: ['opt'],
  parseConfig: parseOptConfig,
  loadWeights: loadOptWeights,
  graphs: optGraphs,
  training: optTraining,
};
