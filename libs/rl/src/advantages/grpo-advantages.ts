/**
 * GRPO group-relative advantages (Shao et al. 2024, "DeepSeekMath", §4.1.2):
 *   A_i = (r_i − mean(r)) / (std(r) + eps)        (scaleByStd = true)
 *   A_i =  r_i − mean(r)                           (scaleByStd = false; "Dr. GRPO", Liu et al. 2025)
 * over the G samples of one question. Masked samples (reward could not be computed) are
 * `null`: they are left out of mean/std and get a `null` advantage, never a fabricated 0,
 * so the loss must drop them (see `advantagesToLossInputs`).
 */

export interface GrpoAdvantageOptions {
  /** Divide by the group std (GRPO) or only centre (Dr. GRPO). Default true. */
  readonly scaleByStd?: boolean;
  /** Added to the std before dividing. Default 1e-6. */
  readonly epsilon?: number;
  /**
   * 'sample' divides the variance by n − 1 (torch.std default, as in TRL's GRPO);
   * 'population' by n. Default 'sample'.
   */
  readonly stdEstimator?: 'sample' | 'population';
}

export interface GroupAdvantages {
  /** One entry per input sample; `null` where the sample is masked. */
  readonly advantages: (number | null)[];
  /** Mean of the unmasked rewards (NaN when every sample is masked). */
  readonly mean: number;
  /** Std of the unmasked rewards per `stdEstimator` (0 for fewer than two samples). */
  readonly std: number;
  /** Number of unmasked samples that entered the statistics. */
  readonly validCount: number;
  /**
   * True when the unmasked rewards are all identical (or fewer than two). Such a group
   * carries no learning signal: every advantage is exactly 0 (not mean-centred rounding
   * noise such as 1e-17, and no division by eps that would blow noise up).
   */
  readonly zeroVariance: boolean;
}

export function computeGroupAdvantages(
  rewards: readonly (number | null)[],
  options: GrpoAdvantageOptions = {},
): GroupAdvantages {
  const scaleByStd = options.scaleByStd ?? true;
  const epsilon = options.epsilon ?? 1e-6;
  const estimator = options.stdEstimator ?? 'sample';
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new RangeError(`epsilon must be a finite number >= 0, got ${epsilon}`);
  }

  let n = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rewards.length; i++) {
    const r = rewards[i];
    if (r === null || r === undefined) continue;
    if (!Number.isFinite(r)) throw new RangeError(`reward[${i}] is not finite (${r}); mask it with null`);
    n++;
    sum += r;
    if (r < min) min = r;
    if (r > max) max = r;
  }
  const mean = n > 0 ? sum / n : Number.NaN;
  let sq = 0;
  for (const r of rewards) {
    if (r === null || r === undefined) continue;
    sq += (r - mean) * (r - mean);
  }
  const denomCount = estimator === 'sample' ? n - 1 : n;
  const std = n >= 2 && denomCount > 0 ? Math.sqrt(sq / denomCount) : 0;
  const zeroVariance = n < 2 || min === max;

  const advantages: (number | null)[] = new Array(rewards.length);
  for (let i = 0; i < rewards.length; i++) {
    const r = rewards[i];
    if (r === null || r === undefined) {
      advantages[i] = null;
    } else if (zeroVariance) {
      advantages[i] = 0;
    } else {
      advantages[i] = scaleByStd ? (r - mean) / (std + epsilon) : r - mean;
    }
  }
  return { advantages, mean, std, validCount: n, zeroVariance };
}

/** Advantages for many groups (one group per question, G samples each). */
export function computeGrpoAdvantages(
  groups: readonly (readonly (number | null)[])[],
  options: GrpoAdvantageOptions = {},
): GroupAdvantages[] {
  return groups.map((g) => computeGroupAdvantages(g, options));
}

/**
 * Flattens nullable advantages into the dense arrays a loss graph takes: masked samples
 * get advantage 0 AND mask 0, so the loss excludes them instead of reading the 0 as a
 * neutral signal.
 */
export function advantagesToLossInputs(advantages: readonly (number | null)[]): {
  advantages: Float32Array;
  mask: Float32Array;
} {
  const a = new Float32Array(advantages.length);
  const mask = new Float32Array(advantages.length);
  for (let i = 0; i < advantages.length; i++) {
    const v = advantages[i];
    if (v === null || v === undefined) continue;
    a[i] = v;
    mask[i] = 1;
  }
  return { advantages: a, mask };
}
