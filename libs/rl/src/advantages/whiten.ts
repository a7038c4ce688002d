/**
 * Whitening of a batch of (token) advantages, as in PPO implementations (TRL's
 * masked_whiten): x' = (x − mean) / sqrt(var + eps), optionally adding the mean back
 * (shiftMean = false) for rewards whose level matters. Only entries with mask 1 enter the
 * statistics; masked entries are returned unchanged.
 */

export interface WhitenOptions {
  /** Subtract the mean (default true). False rescales only, keeping the mean. */
  readonly shiftMean?: boolean;
  /** Added to the variance before the square root. Default 1e-8. */
  readonly epsilon?: number;
  /** Variance divided by n − 1 (true, TRL default) or n. Default true. */
  readonly unbiased?: boolean;
}

export function whiten(
  values: ArrayLike<number>,
  mask?: ArrayLike<number>,
  options: WhitenOptions = {},
): Float64Array {
  const shiftMean = options.shiftMean ?? true;
  const epsilon = options.epsilon ?? 1e-8;
  const unbiased = options.unbiased ?? true;
  if (mask && mask.length !== values.length) {
    throw new RangeError(`mask length ${mask.length} != values length ${values.length}`);
  }
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    if (mask && mask[i] === 0) continue;
    n++;
    sum += values[i] as number;
  }
  const out = Float64Array.from(values as ArrayLike<number>);
  if (n === 0) return out;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < values.length; i++) {
    if (mask && mask[i] === 0) continue;
    const d = (values[i] as number) - mean;
    sq += d * d;
  }
  const denom = unbiased ? n - 1 : n;
  const variance = denom > 0 ? sq / denom : 0;
  const invStd = 1 / Math.sqrt(variance + epsilon);
  for (let i = 0; i < values.length; i++) {
    if (mask && mask[i] === 0) continue;
    const w = ((values[i] as number) - mean) * invStd;
    out[i] = shiftMean ? w : w + mean;
  }
  return out;
}
