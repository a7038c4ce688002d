import type { GraphBuilder, Value } from '@verdict/graph';
import { type LossAggregation, maskedAggregate, maskedMean } from './aggregate.js';
import { clampValue } from './policy-loss.js';
import type { LossGraph } from './sft-loss.js';

export interface ValueLossInputs {
  /** V_θ(s_t) [B,T] from the value head being trained. */
  readonly values: Value;
  /** V_old(s_t) [B,T] recorded with the rollout. */
  readonly oldValues: Value;
  /** Return targets R_t = A_t + V_old(s_t) [B,T] (GAE). */
  readonly returns: Value;
  readonly mask: Value;
}

export interface ValueLossOptions {
  /** ε_v: V is kept within V_old ± ε_v in the clipped branch. Default 0.2. */
  readonly clipRange?: number;
  readonly aggregation?: LossAggregation;
}

/**
 * PPO clipped value loss (as in OpenAI baselines / TRL): ½·max((V − R)², (V_clip − R)²) with
 * V_clip = V_old + clip(V − V_old, −ε_v, ε_v). Metrics `vf_loss`, `vf_clip_fraction`.
 */
export function buildValueLoss(
  g: GraphBuilder,
  inputs: ValueLossInputs,
  options: ValueLossOptions = {},
): LossGraph {
  const eps = options.clipRange ?? 0.2;
  const { values, oldValues, returns, mask } = inputs;
  const clipped = g.add(oldValues, clampValue(g, g.sub(values, oldValues), -eps, eps));
  const err = g.sub(values, returns);
  const errClipped = g.sub(clipped, returns);
  const a = g.mul(err, err);
  const b = g.mul(errClipped, errClipped);
  const clipActive = g.greater(b, a);
  const per = g.mul(g.where(clipActive, b, a), 0.5);
  const loss = maskedAggregate(g, per, mask, options.aggregation ?? 'token-mean');
  return {
    loss,
    metrics: { vf_loss: loss, vf_clip_fraction: maskedMean(g, g.cast(clipActive, values.dtype), mask) },
  };
}

/** Linear value head on the final hidden states: hidden [B,T,H] · w [H] (+ b [1]) → [B,T]. */
export function valueHead(g: GraphBuilder, hidden: Value, weight: Value, bias: Value): Value {
  return g.add(g.squeeze(g.matmul(hidden, g.unsqueeze(weight, 1)), -1), bias);
}
