import type { GraphBuilder, Value } from '@verdict/graph';
import { type LossAggregation, maskedAggregate, maskedMean } from './aggregate.js';
import type { LossGraph } from './sft-loss.js';

export interface PolicyLossInputs {
  /** log π_θ(a_t | s_t) of the taken tokens [B,T], from the graph being trained. */
  readonly logprobs: Value;
  /** log π_old of the same tokens [B,T] (the behaviour policy of the PPO ratio). */
  readonly behaviourLogprobs: Value;
  /** Per-token advantages [B,T] (GRPO: the sequence advantage broadcast over its tokens). */
  readonly advantages: Value;
  /** Float mask [B,T]: 1 on completion tokens of unmasked samples. */
  readonly mask: Value;
  /** log π_ref [B,T]; required when `klCoef` > 0 (it also adds the `kl` metric). */
  readonly refLogprobs?: Value;
  /** Per-token entropy [B,T] (see `tokenEntropy`); required when `entropyCoef` ≠ 0. */
  readonly entropy?: Value;
  /** log μ [B,T] of the rollout engine; required with `truncatedIs`. */
  readonly rolloutLogprobs?: Value;
}

export interface TruncatedIsOptions {
  /** Upper bound c of the sequence weight min(w, c). */
  readonly cap: number;
  /** 'sum': w = exp Σ_t (log π_old − log μ) (the sequence ratio); 'mean': the per-token mean (geometric mean). */
  readonly aggregation?: 'sum' | 'mean';
}

export interface PolicyLossOptions {
  /** Ratio lower clip ε_low: ratios below 1 − ε_low stop contributing gradient for A < 0. Default 0.2. */
  readonly clipLow?: number;
  /** Ratio upper clip ε_high (DAPO's clip-higher uses 0.28). Default 0.2. */
  readonly clipHigh?: number;
  /** β of the in-loss KL to the reference. Default 0 (KL in the reward, or none). */
  readonly klCoef?: number;
  /** 'k1' = log π − log π_ref; 'k3' = (r − 1) − log r with r = π_ref/π (Schulman 2020; GRPO). Default 'k3'. */
  readonly klEstimator?: 'k1' | 'k3';
  /** Coefficient of the entropy bonus (subtracted from the loss). Default 0. */
  readonly entropyCoef?: number;
  readonly aggregation?: LossAggregation;
  /** Sequence-level truncated importance correction for rollout/training mismatch (off by default). */
  readonly truncatedIs?: TruncatedIsOptions;
}

/** clamp(x, lo, hi) with the torch.clamp gradient (1 inside, 0 where clamped). */
export function clampValue(g: GraphBuilder, x: Value, lo: number, hi: number): Value {
  return g.where(g.less(x, lo), lo, g.where(g.greater(x, hi), hi, x));
}

/** Per-token KL estimate between π (logprobs) and π_ref, matching `klTerm` of this package. */
export function klEstimate(
  g: GraphBuilder,
  logprobs: Value,
  refLogprobs: Value,
  estimator: 'k1' | 'k3',
): Value {
  if (estimator === 'k1') return g.sub(logprobs, refLogprobs);
  const logR = g.sub(refLogprobs, logprobs);
  return g.sub(g.sub(g.exp(logR), 1), logR);
}

/**
 * Sequence weight min(exp(Σ_t m·(log π_old − log μ)), c) as [B,1], computed from inputs only (no
 * gradient flows through it), in log space so a long sequence cannot overflow before the cap.
 */
function truncatedIsWeight(
  g: GraphBuilder,
  behaviour: Value,
  rollout: Value,
  mask: Value,
  opts: TruncatedIsOptions,
): Value {
  const delta = g.sum(g.mul(g.sub(behaviour, rollout), mask), 1, true); // [B,1]
  const logW =
    opts.aggregation === 'mean'
      ? g.div(delta, g.where(g.less(g.sum(mask, 1, true), 1), 1, g.sum(mask, 1, true)))
      : delta;
  const logCap = Math.log(opts.cap);
  return g.stopGradient(g.exp(g.where(g.greater(logW, logCap), logCap, logW)));
}

/**
 * PPO / GRPO clipped surrogate (Schulman et al. 2017) with asymmetric clipping:
 *   ratio = exp(log π − log π_old)
 *   pg    = max(−A·ratio, −A·clip(ratio, 1 − ε_low, 1 + ε_high))   (per token, × the TIS weight)
 *   loss  = agg(pg) + β·agg(KL) − c_H·agg(H)
 * Metrics: `pg_loss`, `ratio_mean`, `clip_fraction` (tokens where the clipped branch is active),
 * `kl` (masked token mean, when a reference is given), `entropy`, `is_weight_mean`.
 * Returns the per-token `ratio` too (a test reads it).
 */
export function buildPolicyLoss(
  g: GraphBuilder,
  inputs: PolicyLossInputs,
  options: PolicyLossOptions = {},
): LossGraph & { readonly ratio: Value } {
  const clipLow = options.clipLow ?? 0.2;
  const clipHigh = options.clipHigh ?? 0.2;
  const klCoef = options.klCoef ?? 0;
  const entropyCoef = options.entropyCoef ?? 0;
  const aggregation = options.aggregation ?? 'token-mean';
  if (!(clipLow >= 0 && clipLow < 1) || !(clipHigh >= 0)) {
    throw new RangeError(
      `clip range must satisfy 0 <= clipLow < 1 and clipHigh >= 0 (got ${clipLow}, ${clipHigh})`,
    );
  }
  const { logprobs, mask, advantages } = inputs;
  const ratio = g.exp(g.sub(logprobs, inputs.behaviourLogprobs));
  const negA = g.neg(advantages);
  const pgUnclipped = g.mul(negA, ratio);
  const pgClipped = g.mul(negA, clampValue(g, ratio, 1 - clipLow, 1 + clipHigh));
  const clipActive = g.greater(pgClipped, pgUnclipped);
  let pg = g.where(clipActive, pgClipped, pgUnclipped);
  const metrics: Record<string, Value> = {
    ratio_mean: maskedMean(g, ratio, mask),
    clip_fraction: maskedMean(g, g.cast(clipActive, ratio.dtype), mask),
  };
  if (options.truncatedIs) {
    if (!inputs.rolloutLogprobs) throw new Error('truncatedIs needs rolloutLogprobs');
    if (!(options.truncatedIs.cap > 0)) throw new RangeError('truncatedIs.cap must be > 0');
    const w = truncatedIsWeight(
      g,
      inputs.behaviourLogprobs,
      inputs.rolloutLogprobs,
      mask,
      options.truncatedIs,
    );
    pg = g.mul(pg, w);
    metrics['is_weight_mean'] = g.mean(w, [0, 1]);
  }
  const pgLoss = maskedAggregate(g, pg, mask, aggregation);
  metrics['pg_loss'] = pgLoss;
  let loss = pgLoss;
  if (inputs.refLogprobs) {
    const kl = klEstimate(g, logprobs, inputs.refLogprobs, options.klEstimator ?? 'k3');
    metrics['kl'] = maskedMean(g, kl, mask);
    if (klCoef !== 0) loss = g.add(loss, g.mul(maskedAggregate(g, kl, mask, aggregation), klCoef));
  } else if (klCoef !== 0) {
    throw new Error('klCoef > 0 needs refLogprobs');
  }
  if (inputs.entropy) {
    metrics['entropy'] = maskedMean(g, inputs.entropy, mask);
    if (entropyCoef !== 0)
      loss = g.sub(loss, g.mul(maskedAggregate(g, inputs.entropy, mask, aggregation), entropyCoef));
  } else if (entropyCoef !== 0) {
    throw new Error('entropyCoef ≠ 0 needs entropy');
  }
  return { loss, metrics, ratio };
}
