import { EvalArgumentError } from '../report/suite-run.js';
import { normalQuantile, studentTQuantile } from './distributions.js';

/** Confidence level of every interval unless a caller asks otherwise. */
export const DEFAULT_LEVEL = 0.95;

/** One arm's accuracy on n problems with its interval. */
export interface AccuracyEstimate {
  readonly n: number;
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  /** `wilson` for 0/1 scores (greedy correctness); `t` for fractional ones (mean@k, maj@k, seed means). */
  readonly method: 'wilson' | 't';
}

/** Field-named INVALID_ARGUMENT for bad statistics input. */
export function statsArgumentError(field: string, message: string): EvalArgumentError {
  return new EvalArgumentError(`${field}: ${message}`, field);
}

export function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw statsArgumentError('level', `must be in (0, 1), got ${level}`);
}

/**
 * Per-problem scores of one arm: non-empty, every value finite and in [0, 1] (a 0/1 correctness or
 * a fraction such as c/k correct samples).
 */
export function checkScores(scores: readonly number[], field: string): void {
  if (scores.length === 0) throw statsArgumentError(field, 'needs at least one problem (n = 0)');
  for (let i = 0; i < scores.length; i++) {
    const x = scores[i]!;
    if (!(x >= 0 && x <= 1))
      throw statsArgumentError(`${field}[${i}]`, `must be a score in [0, 1], got ${x}`);
  }
}

export function isBinary(scores: readonly number[]): boolean {
  return scores.every((x) => x === 0 || x === 1);
}

/** Wilson score interval of `successes` out of `n` (good coverage near 0 and 1, unlike the Wald interval). */
export function wilsonInterval(
  successes: number,
  n: number,
  level = DEFAULT_LEVEL,
): { lo: number; hi: number } {
  if (!Number.isInteger(n) || n < 1) throw statsArgumentError('n', `must be an integer >= 1, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw statsArgumentError('successes', `must be an integer in [0, n = ${n}], got ${successes}`);
  }
  checkLevel(level);
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  // successes = 0 or n: that end is exactly 0 / 1 (the formula leaves float noise there).
  return {
    lo: successes === 0 ? 0 : Math.max(0, centre - half),
    hi: successes === n ? 1 : Math.min(1, centre + half),
  };
}

/** Mean with a Student t interval (NaN ends with one problem: no spread to measure). */
export function meanTInterval(
  scores: readonly number[],
  level = DEFAULT_LEVEL,
): { mean: number; se: number; lo: number; hi: number; df: number } {
  const n = scores.length;
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: Number.NaN, lo: Number.NaN, hi: Number.NaN, df: 0 };
  const variance = scores.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const se = Math.sqrt(variance / n);
  const t = studentTQuantile(1 - (1 - level) / 2, n - 1);
  return { mean, se, lo: mean - t * se, hi: mean + t * se, df: n - 1 };
}

/**
 * One arm's accuracy with its interval: Wilson when every score is 0/1, otherwise the t interval
 * of the per-problem mean (clamped to [0, 1]).
 */
export function accuracyInterval(scores: readonly number[], level = DEFAULT_LEVEL): AccuracyEstimate {
  checkScores(scores, 'scores');
  checkLevel(level);
  const n = scores.length;
  if (isBinary(scores)) {
    const successes = scores.reduce((a, b) => a + b, 0);
    return { n, mean: successes / n, ...wilsonInterval(successes, n, level), level, method: 'wilson' };
  }
  const t = meanTInterval(scores, level);
  return {
    n,
    mean: t.mean,
    lo: Number.isNaN(t.lo) ? t.lo : Math.max(0, t.lo),
    hi: Number.isNaN(t.hi) ? t.hi : Math.min(1, t.hi),
    level,
    method: 't',
  };
}

export interface DetectableDifferenceOptions {
  /** Problems per arm (the same problems for both arms when paired). */
  readonly n: number;
  /** Accuracy of the arms around which the difference is sought, in (0, 1). */
  readonly accuracy: number;
  /** Two-sided test level. Default 0.05. */
  readonly alpha?: number;
  /** Probability of detecting a true difference of that size. Default 0.8. */
  readonly power?: number;
  /**
   * Share of problems on which the two arms disagree (greedy: one right, the other wrong); gives the
   * paired figure. Measured from two real arms (`McNemarResult.discordant / n`).
   */
  readonly discordance?: number;
}

/**
 * The smallest true accuracy difference the evaluation detects with the given power at level α:
 * (z_{1−α/2} + z_power) × SE. Unpaired (two independent samples of n): SE = √(2p(1−p)/n). Paired
 * on the same problems: SE ≈ √(discordance/n) (the McNemar variance for a small difference). E.g.
 * n = 200 at 26 %: 12.3 points unpaired; n = 1,000: 5.5 points.
 */
export function minimumDetectableDifference(o: DetectableDifferenceOptions): {
  unpaired: number;
  paired?: number;
} {
  const alpha = o.alpha ?? 0.05;
  const power = o.power ?? 0.8;
  if (!Number.isInteger(o.n) || o.n < 1) throw statsArgumentError('n', `must be an integer >= 1, got ${o.n}`);
  if (!(o.accuracy > 0 && o.accuracy < 1))
    throw statsArgumentError('accuracy', `must be in (0, 1), got ${o.accuracy}`);
  if (!(alpha > 0 && alpha < 1)) throw statsArgumentError('alpha', `must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw statsArgumentError('power', `must be in (0, 1), got ${power}`);
  if (o.discordance !== undefined && !(o.discordance > 0 && o.discordance <= 1)) {
    throw statsArgumentError('discordance', `must be in (0, 1], got ${o.discordance}`);
  }
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  const unpaired = z * Math.sqrt((2 * o.accuracy * (1 - o.accuracy)) / o.n);
  return o.discordance === undefined
    ? { unpaired }
    : { unpaired, paired: z * Math.sqrt(o.discordance / o.n) };
}
