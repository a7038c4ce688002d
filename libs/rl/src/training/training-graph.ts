import { createGraph, type GraphBuilder, grad, toOnnxModel, type Value } from '@verdict/graph';
import { type CausalLmConfig, modelTrainingFor } from '@verdict/models';
import type { LossAggregation } from '../losses/aggregate.js';
import { buildPolicyLoss, type PolicyLossOptions } from '../losses/policy-loss.js';
import { buildSftLoss } from '../losses/sft-loss.js';
import { tokenEntropy, tokenLogprobs } from '../losses/token-logprobs.js';
import { buildValueLoss, type ValueLossOptions, valueHead } from '../losses/value-loss.js';

/** The parameters of the optional PPO value head (not Hugging Face names: kept out of model.safetensors). */
export const VALUE_HEAD_WEIGHT = 'v_head.weight';
export const VALUE_HEAD_BIAS = 'v_head.bias';

/** Length of `v_head.weight`: the family's hidden width at the LM head (OPT: word_embed_proj_dim). */
export function valueHeadWidth(config: CausalLmConfig): number {
  return modelTrainingFor(config).hiddenWidth(config);
}

/** Every trainable tensor: the family's HF parameters, plus the value head when `withValueHead`. */
export function trainableShapes(
  config: CausalLmConfig,
  withValueHead: boolean,
): Map<string, readonly number[]> {
  const shapes = new Map(modelTrainingFor(config).weightShapes(config));
  if (withValueHead) {
    shapes.set(VALUE_HEAD_WEIGHT, [valueHeadWidth(config)]);
    shapes.set(VALUE_HEAD_BIAS, [1]);
  }
  return shapes;
}

/** What the training graph optimises. */
export type TrainingLossSpec =
  | { readonly kind: 'sft'; readonly aggregation?: LossAggregation }
  | {
      readonly kind: 'policy';
      readonly policy?: PolicyLossOptions;
      /**
       * Compute the per-token entropy even when `policy.entropyCoef` is 0: metric `entropy` and output
       * `token_entropy` [B,T], not in the loss (a controller that skips the scoring pass still reports it).
       */
      readonly entropyMetric?: boolean;
      /** PPO critic: a linear value head on the trunk, loss weighted by `coef` (default 0.5). */
      readonly valueHead?: ValueLossOptions & { readonly coef?: number };
    };

/** Per-token graph inputs ([batch, seq]) each loss kind needs, besides ids/masks/targets. */
export function lossInputNames(spec: TrainingLossSpec): string[] {
  if (spec.kind === 'sft') return [];
  const names = ['advantages', 'behaviour_logprobs'];
  const p = spec.policy ?? {};
  if ((p.klCoef ?? 0) !== 0) names.push('ref_logprobs');
  if (p.truncatedIs) names.push('rollout_logprobs');
  if (spec.valueHead) names.push('old_values', 'returns');
  return names;
}

export interface TrainingGraph {
  /** ONNX bytes: parameters are graph inputs, one session serves every step and shape. */
  readonly model: Uint8Array;
  /** Output name of each parameter's gradient, by parameter name. */
  readonly gradOutputs: ReadonlyMap<string, string>;
  /** Scalar metric output names (the loss is `loss`). */
  readonly metricNames: readonly string[];
  /** Float per-token inputs besides `loss_mask`. */
  readonly tokenInputs: readonly string[];
}

interface ForwardParts {
  readonly g: GraphBuilder;
  readonly logits: Value;
  readonly hidden: Value;
  readonly logprobs: Value;
  readonly mask: Value;
}

/**
 * Inputs `input_ids`, `attention_mask`, `position_ids`, `targets` (int64 [batch, seq]) and `loss_mask`
 * (float32 [batch, seq]); `logits[b,t]` scores `targets[b,t]` (the caller shifts). The trunk is the
 * family's (`modelTrainingFor(config).forward`: `llamaTrunk`, `optTrunk`, ...), the one definition
 * the inference graphs use. Families with learned positions (OPT) number them from `attention_mask`
 * and leave `position_ids` unused.
 */
function buildForward(
  config: CausalLmConfig,
  weights: ReadonlyMap<string, Float32Array> | undefined,
): ForwardParts {
  const g = createGraph();
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'seq']);
  const targets = g.input('targets', 'int64', ['batch', 'seq']);
  const mask = g.input('loss_mask', 'float32', ['batch', 'seq']);
  const family = modelTrainingFor(config);
  const params = family.declareParams(g, config, weights);
  const { hidden, lmHeadWeight } = family.forward(g, config, params, {
    inputIds,
    attentionMask,
    positionIds,
  });
  const logits = g.matmul(hidden, g.transpose(lmHeadWeight, [1, 0]));
  return { g, logits, hidden, logprobs: tokenLogprobs(g, logits, targets), mask };
}

/** Forward → per-token log-probs → loss → `grad` over every parameter, emitted with params as inputs. */
export function buildTrainingGraph(config: CausalLmConfig, spec: TrainingLossSpec): TrainingGraph {
  const { g, logits, hidden, logprobs, mask } = buildForward(config, undefined);
  const tokenInputs = lossInputNames(spec);
  const tok = (name: string) => g.input(name, 'float32', ['batch', 'seq']);
  const inputs = new Map(tokenInputs.map((n) => [n, tok(n)]));
  let loss: Value;
  let metrics: Record<string, Value>;
  const extra: Record<string, Value> = { logprobs };
  if (spec.kind === 'sft') {
    ({ loss, metrics } = buildSftLoss(g, { logprobs, mask }, { aggregation: spec.aggregation }));
  } else {
    const p = spec.policy ?? {};
    const entropy = (p.entropyCoef ?? 0) !== 0 || spec.entropyMetric ? tokenEntropy(g, logits) : undefined;
    if (entropy) extra['token_entropy'] = entropy;
    const pl = buildPolicyLoss(
      g,
      {
        logprobs,
        mask,
        advantages: inputs.get('advantages')!,
        behaviourLogprobs: inputs.get('behaviour_logprobs')!,
        refLogprobs: inputs.get('ref_logprobs'),
        rolloutLogprobs: inputs.get('rollout_logprobs'),
        entropy,
      },
      p,
    );
    loss = pl.loss;
    metrics = { ...pl.metrics };
    extra['ratio'] = pl.ratio;
    if (spec.valueHead) {
      const w = g.param(VALUE_HEAD_WEIGHT, 'float32', [valueHeadWidth(config)]);
      const b = g.param(VALUE_HEAD_BIAS, 'float32', [1]);
      const values = valueHead(g, hidden, w, b);
      const vl = buildValueLoss(
        g,
        { values, oldValues: inputs.get('old_values')!, returns: inputs.get('returns')!, mask },
        spec.valueHead,
      );
      loss = g.add(loss, g.mul(vl.loss, spec.valueHead.coef ?? 0.5));
      Object.assign(metrics, vl.metrics);
      extra['values'] = values;
    }
  }
  const res = grad(g, loss, 'params', { extraOutputs: { ...metrics, ...extra } });
  return {
    model: toOnnxModel(g, { name: `train-${spec.kind}`, params: 'inputs' }),
    gradOutputs: res.gradOutputNames,
    metricNames: Object.keys(metrics),
    tokenInputs,
  };
}

/**
 * Forward-only scoring graph: same inputs as training minus `loss_mask`, outputs `logprobs` [batch, seq]
 * (and `entropy`). With `weights` the parameters are baked in (a frozen reference); without, they are
 * inputs (behaviour log-probs of the current parameters).
 */
export function buildLogprobGraph(
  config: CausalLmConfig,
  weights: ReadonlyMap<string, Float32Array> | undefined,
  options: { readonly entropy?: boolean } = {},
): Uint8Array {
  const { g, logits, logprobs } = buildForward(config, weights);
  g.output('logprobs', logprobs);
  if (options.entropy) g.output('entropy', tokenEntropy(g, logits));
  return toOnnxModel(g, { name: 'logprobs', params: weights ? 'initializers' : 'inputs' });
}
