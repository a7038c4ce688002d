import { createRng } from '../prng.js';
import { binomialPmf, studentTCdf } from './distributions.js';
import {
  checkLevel,
  checkScores,
  DEFAULT_LEVEL,
  isBinary,
  meanTInterval,
  statsArgumentError,
} from './intervals.js';

/** Resamples of the paired bootstrap unless a caller asks otherwise (Monte Carlo error of a 95 % end ≈ 0.1 point at n = 1,000). */
export const DEFAULT_BOOTSTRAP_RESAMPLES = 10_000;

/** Exact McNemar test on paired 0/1 outcomes: only the discordant problems carry information. */
export interface McNemarResult {
  readonly n: number;
  /** Problems A got right and B wrong. */
  readonly onlyA: number;
  /** Problems B got right and A wrong. */
  readonly onlyB: number;
  readonly discordant: number;
  /** Two-sided exact binomial p-value: min(1, 2·P(X ≤ min(onlyA, onlyB))), X ~ Bin(discordant, ½). */
  readonly pExact: number;
  /**
   * Mid-p (Fagerland et al. 2013): 2·P(X ≤ m) − P(X = m), m = min(onlyA, onlyB), capped at 1 — less
   * conservative than the exact p, close to the nominal size. 1 when onlyA = onlyB.
   */
  readonly pMid: number;
}

export interface BootstrapResult {
  /** mean(A) − mean(B). */
  readonly diff: number;
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  readonly resamples: number;
  readonly seed: number | string;
}

export interface PairedTResult {
  readonly diff: number;
  readonly se: number;
  readonly lo: number;
  readonly hi: number;
  readonly df: number;
  /** Two-sided p-value of mean difference 0 (1 when every difference is 0). */
  readonly p: number;
}

/** A − B on the same problems: the paired bootstrap interval (headline), the paired t, McNemar for 0/1. */
export interface PairedComparison {
  readonly n: number;
  readonly meanA: number;
  readonly meanB: number;
  readonly diff: number;
  /** Paired bootstrap percentile interval of the difference. */
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  readonly resamples: number;
  readonly seed: number | string;
  /** The p-value reported: McNemar mid-p for 0/1 outcomes, paired t otherwise. */
  readonly test: 'mcnemar-mid-p' | 'paired-t';
  readonly p: number;
  readonly t: PairedTResult;
  readonly mcnemar?: McNemarResult;
}

export interface PairedOptions {
  readonly level?: number;
  readonly resamples?: number;
  /** RNG seed of the bootstrap (mulberry32 via `createRng`): the same seed gives the same interval. */
  readonly seed?: number | string;
}

function checkPair(a: readonly number[], b: readonly number[]): void {
  checkScores(a, 'a');
  if (b.length !== a.length) {
    throw statsArgumentError('b', `must score the same ${a.length} problems as a (got ${b.length})`);
  }
  checkScores(b, 'b');
}

export function mcnemarTest(a: readonly number[], b: readonly number[]): McNemarResult {
  checkPair(a, b);
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== 0 && a[i] !== 1)
      throw statsArgumentError(`a[${i}]`, `McNemar needs 0/1 outcomes, got ${a[i]}`);
    if (b[i] !== 0 && b[i] !== 1)
      throw statsArgumentError(`b[${i}]`, `McNemar needs 0/1 outcomes, got ${b[i]}`);
    if (a[i] === 1 && b[i] === 0) onlyA++;
    else if (a[i] === 0 && b[i] === 1) onlyB++;
  }
  const d = onlyA + onlyB;
  const m = Math.min(onlyA, onlyB);
  let cdf = 0;
  for (let x = 0; x <= m; x++) cdf += binomialPmf(x, d, 0.5);
  const pExact = Math.min(1, 2 * cdf);
  const pMid = Math.min(1, 2 * cdf - binomialPmf(m, d, 0.5));
  return { n: a.length, onlyA, onlyB, discordant: d, pExact, pMid };
}

/** Type-7 quantile (linear between order statistics) of sorted values. */
function quantileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  const next = sorted[Math.min(i + 1, sorted.length - 1)]!;
  return sorted[i]! + (h - i) * (next - sorted[i]!);
}

/**
 * Paired bootstrap of mean(A) − mean(B): resample problems with replacement (both arms together, so
 * the pairing stays), percentile interval over `resamples` resampled differences.
 */
export function pairedBootstrap(
  a: readonly number[],
  b: readonly number[],
  options: PairedOptions = {},
): BootstrapResult {
  checkPair(a, b);
  const level = options.level ?? DEFAULT_LEVEL;
  checkLevel(level);
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < 100) {
    throw statsArgumentError('resamples', `must be an integer >= 100, got ${resamples}`);
  }
  const seed = options.seed ?? 0;
  const n = a.length;
  const d = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    d[i] = a[i]! - b[i]!;
    sum += d[i]!;
  }
  const rng = createRng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rng.next() * n)]!;
    means[r] = s / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return {
    diff: sum / n,
    lo: quantileSorted(means, tail),
    hi: quantileSorted(means, 1 - tail),
    level,
    resamples,
    seed,
  };
}

/** Paired t interval and test on the per-problem differences (NaN interval with one problem). */
export function pairedTTest(
  a: readonly number[],
  b: readonly number[],
  level: number = DEFAULT_LEVEL,
): PairedTResult {
  checkPair(a, b);
  checkLevel(level);
  const d = a.map((x, i) => x - b[i]!);
  const t = meanTInterval(d, level);
  let p: number;
  if (Number.isNaN(t.se)) p = Number.NaN;
  else if (t.se === 0) p = t.mean === 0 ? 1 : 0;
  else p = 2 * (1 - studentTCdf(Math.abs(t.mean / t.se), t.df));
  return { diff: t.mean, se: t.se, lo: t.lo, hi: t.hi, df: t.df, p };
}

/** A − B on the same problems, all three ways; the p-value is McNemar's mid-p when both are 0/1. */
export function comparePaired(
  a: readonly number[],
  b: readonly number[],
  options: PairedOptions = {},
): PairedComparison {
  const boot = pairedBootstrap(a, b, options);
  const t = pairedTTest(a, b, boot.level);
  const binary = isBinary(a) && isBinary(b);
  const mcnemar = binary ? mcnemarTest(a, b) : undefined;
  const n = a.length;
  return {
    n,
    meanA: a.reduce((x, y) => x + y, 0) / n,
    meanB: b.reduce((x, y) => x + y, 0) / n,
    diff: boot.diff,
    lo: boot.lo,
    hi: boot.hi,
    level: boot.level,
    resamples: boot.resamples,
    seed: boot.seed,
    test: mcnemar ? 'mcnemar-mid-p' : 'paired-t',
    p: mcnemar ? mcnemar.pMid : t.p,
    t,
    ...(mcnemar ? { mcnemar } : {}),
  };
}
