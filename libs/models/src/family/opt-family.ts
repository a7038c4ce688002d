import { buildOptDecodeGraph, buildOptInferenceGraph, buildOptJudgeGraph } from '../arch/opt-graphs.js';
import { type OptConfig, parseOptConfig } from '../checkpoint/opt-config.js';
import { loadOptWeights, type OptWeights } from '../checkpoint/opt-weights.js';
import type { FamilyGraphs } from '../model/family-model.js';
import type { ModelFamily } from './model-family.js';

/** The OPT family's graphs (prefill with 'last' logits, KV-buffer decode, judge) over given weights. */
export function optGraphs(config: OptConfig, weights: OptWeights): FamilyGraphs {
  return {
    prefill: () => buildOptInferenceGraph(config, weights, { logits: 'last' }),
    decode: () => buildOptDecodeGraph(config, weights),
    judge: () => buildOptJudgeGraph(config, weights),
  };
}

/** OPT and Galactica (HF OPTForCausalLM): the graphs of arch/opt-graph.ts. */
export const optFamily: ModelFamily<OptConfig> = {
  name: 'opt',
  modelTypes: ['opt'],
  parseConfig: parseOptConfig,
  loadWeights: loadOptWeights,
  graphs: optGraphs,
};
