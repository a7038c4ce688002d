import { answersEqual, type Tolerance } from '../answer/check-answer.js';

/** An extracted answer: a number, `null` ("cannot be answered"), or `undefined` (nothing extracted). */
export type VoteAnswer = number | null | undefined;

/** Grouping key: answers that print the same to 12 significant digits vote together. */
function voteKey(a: number | null): string {
  return a === null ? 'none' : String(Number(a.toPrecision(12)));
}

interface VoteClasses {
  /** Count of votes for the class equal to gold (0 when no sample got it). */
  readonly gold: number;
  /** Counts of the other answer classes. */
  readonly others: number[];
  /** Samples with no extracted answer: they take part in the draw but do not vote. */
  readonly abstain: number;
}

function classify(answers: readonly VoteAnswer[], gold: number | null, tolerance: Tolerance): VoteClasses {
  const counts = new Map<string, { value: number | null; count: number }>();
  let abstain = 0;
  for (const a of answers) {
    if (a === undefined) {
      abstain++;
      continue;
    }
    const key = voteKey(a);
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { value: a, count: 1 });
  }
  let goldCount = 0;
  const others: number[] = [];
  for (const { value, count } of counts.values()) {
    if (answersEqual(value, gold, tolerance)) goldCount += count;
    else others.push(count);
  }
  return { gold: goldCount, others, abstain };
}

/**
 * Credit of one majority vote: 1 when gold has strictly the most votes, 1/(t+1) when it ties
 * with t other answers (the expected accuracy of breaking ties uniformly at random), 0 otherwise
 * or when nobody voted. Samples with no extracted answer abstain.
 */
export function majorityVoteCredit(
  answers: readonly VoteAnswer[],
  gold: number | null,
  tolerance: Tolerance = {},
): number {
  const c = classify(answers, gold, tolerance);
  if (c.gold === 0) return 0;
  let tied = 0;
  for (const o of c.others) {
    if (o > c.gold) return 0;
    if (o === c.gold) tied++;
  }
  return 1 / (tied + 1);
}

/** Binomial coefficient as a double (exact below 2^53, relative error ~1e-15 beyond). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const kk = Math.min(k, n - k);
  let r = 1;
  for (let i = 1; i <= kk; i++) r = (r * (n - kk + i)) / i;
  // The running product is exact in integers; rounding removes the division's float noise.
  return r < 2 ** 53 ? Math.round(r) : r;
}

/**
 * Unbiased maj@k from n ≥ k samples of one question: the expected `majorityVoteCredit` over all
 * C(n, k) subsets of size k, computed exactly by counting rather than sampling.
 *
 * For each number g of gold votes drawn, a dynamic programme over the other answer classes
 * counts the ways to draw the rest with no class above g, split by how many classes tie at g
 * (each tie-pattern earns 1/(ties+1)); abstaining samples fill any remaining slots freely.
 */
export function majAtK(
  answers: readonly VoteAnswer[],
  gold: number | null,
  k: number,
  tolerance: Tolerance = {},
): number {
  const n = answers.length;
  if (!Number.isInteger(k) || k < 1 || k > n)
    throw new RangeError(`maj@k needs 1 ≤ k ≤ n, got k=${k}, n=${n}`);
  const c = classify(answers, gold, tolerance);
  if (c.gold === 0) return 0;
  let favourable = 0;
  for (let g = 1; g <= Math.min(k, c.gold); g++) {
    const rest = k - g;
    // dp[s][t]: ways to draw s samples from the classes seen so far, none above g, t of them exactly g.
    let dp: number[][] = [[1]];
    for (const size of c.others) {
      const next: number[][] = Array.from({ length: rest + 1 }, () => []);
      for (let s = 0; s <= rest; s++) {
        const row = dp[s];
        if (row === undefined) continue;
        row.forEach((ways, t) => {
          if (!ways) return;
          for (let x = 0; x <= Math.min(g, size, rest - s); x++) {
            const tt = x === g ? t + 1 : t;
            const target = next[s + x]!;
            target[tt] = (target[tt] ?? 0) + ways * binomial(size, x);
          }
        });
      }
      dp = next;
    }
    let weighted = 0;
    for (let s = 0; s <= rest; s++) {
      const row = dp[s];
      if (row === undefined) continue;
      const fill = binomial(c.abstain, rest - s);
      if (fill === 0) continue;
      row.forEach((ways, t) => {
        if (ways) weighted += (ways * fill) / (t + 1);
      });
    }
    favourable += binomial(c.gold, g) * weighted;
  }
  return favourable / binomial(n, k);
}
