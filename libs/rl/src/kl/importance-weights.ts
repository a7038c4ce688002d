/**
 * Rollout/training mismatch. Tokens are sampled by the rollout engine (behaviour policy
 * μ, the inference graph) and trained on with log-probs from the training graph (π).
 * Numerically they should agree; when they do not, the gradient is off-policy and a
 * sequence-level truncated importance weight corrects it (truncated IS, as in Ionides
 * 2008; applied to LLM RL by Yao et al. 2025, "Your Efficient RL Framework Secretly Brings
 * You Off-Policy RL Training"):
 *   log w = Σ_t (log π(y_t) − log μ(y_t))        (aggregation 'sum': the sequence ratio)
 *   log w = mean_t (…)                            (aggregation 'mean': geometric mean, GSPO-style)
 *   w̃ = min(w, c)
 * computed in log space so a large log-ratio caps at c instead of overflowing to Infinity.
 */
export interface TruncatedImportanceOptions {
  /** Cap c > 0 on the weight. */
  readonly cap: number;
  /** Default 'sum'. */
  readonly aggregation?: 'sum' | 'mean';
}

export interface SequenceImportanceWeight {
  /** min(w, c). */
  readonly weight: number;
  /** log w before truncation. */
  readonly logRatio: number;
  /** True when the cap was applied. */
  readonly truncated: boolean;
}

export function sequenceImportanceWeight(
  trainingLogprobs: ArrayLike<number>,
  rolloutLogprobs: ArrayLike<number>,
  options: TruncatedImportanceOptions,
  mask?: ArrayLike<number>,
): SequenceImportanceWeight {
  const { cap } = options;
  if (!(cap > 0)) throw new RangeError(`cap must be > 0, got ${cap}`);
  if (trainingLogprobs.length !== rolloutLogprobs.length) {
    throw new RangeError(
      `${trainingLogprobs.length} training vs ${rolloutLogprobs.length} rollout log-probs`,
    );
  }
  if (mask && mask.length !== trainingLogprobs.length)
    throw new RangeError('mask length differs from log-probs');
  let sum = 0;
  let n = 0;
  for (let i = 0; i < trainingLogprobs.length; i++) {
    if (mask && mask[i] === 0) continue;
    sum += (trainingLogprobs[i] as number) - (rolloutLogprobs[i] as number);
    n++;
  }
  if (!Number.isFinite(sum)) throw new RangeError(`non-finite log-ratio ${sum}`);
  const logRatio = (options.aggregation ?? 'sum') === 'mean' && n > 0 ? sum / n : sum;
  const logCap = Math.log(cap);
  const truncated = logRatio > logCap;
  return { weight: truncated ? cap : Math.exp(logRatio), logRatio, truncated };
}

export interface RolloutMismatchStats {
  /** mean |log π − log μ| over tokens. */
  readonly meanAbsLogprobDiff: number;
  readonly maxAbsLogprobDiff: number;
  /** KL(μ ‖ π) estimated on μ's samples: k1 = log μ − log π (mean). */
  readonly klK1: number;
  /** k3 = (π/μ − 1) − log(π/μ) (mean), unbiased and ≥ 0. */
  readonly klK3: number;
  readonly tokenCount: number;
}

/** Mismatch metrics between rollout (μ) and training (π) log-probs of the same tokens. */
export function rolloutMismatchStats(
  trainingLogprobs: ArrayLike<number>,
  rolloutLogprobs: ArrayLike<number>,
  mask?: ArrayLike<number>,
): RolloutMismatchStats {
  if (trainingLogprobs.length !== rolloutLogprobs.length) {
    throw new RangeError(
      `${trainingLogprobs.length} training vs ${rolloutLogprobs.length} rollout log-probs`,
    );
  }
  if (mask && mask.length !== trainingLogprobs.length)
    throw new RangeError('mask length differs from log-probs');
  let absSum = 0;
  let absMax = 0;
  let k1 = 0;
  let k3 = 0;
  let n = 0;
  for (let i = 0; i < trainingLogprobs.length; i++) {
    if (mask && mask[i] === 0) continue;
    const d = (trainingLogprobs[i] as number) - (rolloutLogprobs[i] as number);
    const a = Math.abs(d);
    absSum += a;
    if (a > absMax) absMax = a;
    k1 += -d;
    k3 += Math.expm1(d) - d;
    n++;
  }
  if (n === 0) {
    return {
      meanAbsLogprobDiff: Number.NaN,
      maxAbsLogprobDiff: Number.NaN,
      klK1: Number.NaN,
      klK3: Number.NaN,
      tokenCount: 0,
    };
  }
  return {
    meanAbsLogprobDiff: absSum / n,
    maxAbsLogprobDiff: absMax,
    klK1: k1 / n,
    klK3: k3 / n,
    tokenCount: n,
  };
}
