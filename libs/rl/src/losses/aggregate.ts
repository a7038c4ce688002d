import type { GraphBuilder, Value } from '@verdict/graph';

/**
 * How per-token terms become one scalar:
 * - `token-mean`: Σ_{b,t} m·x / Σ m — every token weighs the same (DAPO, Dr. GRPO style);
 * - `sequence-mean`: mean over non-empty sequences of (Σ_t m·x / Σ_t m) — every sequence weighs
 *   the same (original GRPO).
 */
export type LossAggregation = 'token-mean' | 'sequence-mean';

/** max(x, 1): an empty mask divides by 1 and gives 0 instead of NaN. */
function atLeastOne(g: GraphBuilder, x: Value): Value {
  return g.where(g.less(x, 1), 1, x);
}

/** Aggregates a per-token term x [B,T] under a float mask [B,T] into a scalar. */
export function maskedAggregate(g: GraphBuilder, x: Value, mask: Value, aggregation: LossAggregation): Value {
  const masked = g.mul(x, mask);
  if (aggregation === 'token-mean') return g.div(g.sum(masked, [0, 1]), atLeastOne(g, g.sum(mask, [0, 1])));
  const rowCount = g.sum(mask, 1); // [B]
  const perRow = g.div(g.sum(masked, 1), atLeastOne(g, rowCount));
  const nonEmpty = g.cast(g.greater(rowCount, 0), x.dtype);
  return g.div(g.sum(perRow, 0), atLeastOne(g, g.sum(nonEmpty, 0)));
}

/** Masked token mean, the aggregation every metric uses. */
export function maskedMean(g: GraphBuilder, x: Value, mask: Value): Value {
  return maskedAggregate(g, x, mask, 'token-mean');
}
