import type { GraphBuilder, Value } from '@verdict/graph';
import { type LossAggregation, maskedAggregate } from './aggregate.js';

export interface SftLossInputs {
  /** Per-token log-probabilities of the targets [B,T] (see `tokenLogprobs`). */
  readonly logprobs: Value;
  /** Float mask [B,T]: 1 on completion tokens that count, 0 on prompt and padding. */
  readonly mask: Value;
}

export interface SftLossOptions {
  readonly aggregation?: LossAggregation;
}

export interface LossGraph {
  /** The scalar that is differentiated. */
  readonly loss: Value;
  /** Scalar metrics by output name (not differentiated). */
  readonly metrics: Readonly<Record<string, Value>>;
}

/** Token-level cross-entropy under a loss mask: −agg(log p(target)). Metric `tokens` = Σ mask. */
export function buildSftLoss(
  g: GraphBuilder,
  inputs: SftLossInputs,
  options: SftLossOptions = {},
): LossGraph {
  const nll = g.neg(inputs.logprobs);
  const loss = maskedAggregate(g, nll, inputs.mask, options.aggregation ?? 'token-mean');
  return { loss, metrics: { tokens: g.sum(inputs.mask, [0, 1]) } };
}
