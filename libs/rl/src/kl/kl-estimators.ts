/**
 * Monte-Carlo estimators of KL(π ‖ π_ref) from tokens sampled from π (Schulman 2020,
 * "Approximating KL Divergence", http://joschu.net/blog/kl-approx.html). With
 * log r = log π_ref(x) − log π(x):
 *   k1 = −log r                   unbiased, high variance, can be negative per token
 *   k2 = ½ (log r)²               biased (low for close policies), always ≥ 0
 *   k3 = (r − 1) − log r          unbiased, always ≥ 0 (used by GRPO, Shao et al. 2024)
 * Plain functions over log-prob arrays, for metrics and tests; the in-loss KL lives in the
 * training graph.
 */
export type KlEstimator = 'k1' | 'k2' | 'k3';

export function klTerm(estimator: KlEstimator, policyLogprob: number, referenceLogprob: number): number {
  const logRatio = referenceLogprob - policyLogprob;
  switch (estimator) {
    case 'k1':
      return -logRatio;
    case 'k2':
      return 0.5 * logRatio * logRatio;
    case 'k3':
      // expm1 keeps precision when the policies are close (r − 1 ≈ log r ≈ 0).
      return Math.expm1(logRatio) - logRatio;
  }
}

function checkPair(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  what: string,
): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} vs ${b.length} log-probs`);
  if (mask && mask.length !== a.length)
    throw new RangeError(`${what}: mask length ${mask.length} != ${a.length}`);
}

/** Per-token KL estimates. */
export function klPerToken(
  estimator: KlEstimator,
  policyLogprobs: ArrayLike<number>,
  referenceLogprobs: ArrayLike<number>,
): Float64Array {
  checkPair(policyLogprobs, referenceLogprobs, undefined, 'klPerToken');
  const out = new Float64Array(policyLogprobs.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = klTerm(estimator, policyLogprobs[i] as number, referenceLogprobs[i] as number);
  }
  return out;
}

export interface KlSummary {
  readonly k1: number;
  readonly k2: number;
  readonly k3: number;
  /** Tokens with mask 1 that entered the means. */
  readonly tokenCount: number;
}

/** Token-mean of all three estimators over the masked-in tokens (NaN when none). */
export function meanKl(
  policyLogprobs: ArrayLike<number>,
  referenceLogprobs: ArrayLike<number>,
  mask?: ArrayLike<number>,
): KlSummary {
  checkPair(policyLogprobs, referenceLogprobs, mask, 'meanKl');
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let n = 0;
  for (let i = 0; i < policyLogprobs.length; i++) {
    if (mask && mask[i] === 0) continue;
    const p = policyLogprobs[i] as number;
    const q = referenceLogprobs[i] as number;
    k1 += klTerm('k1', p, q);
    k2 += klTerm('k2', p, q);
    k3 += klTerm('k3', p, q);
    n++;
  }
  if (n === 0) return { k1: Number.NaN, k2: Number.NaN, k3: Number.NaN, tokenCount: 0 };
  return { k1: k1 / n, k2: k2 / n, k3: k3 / n, tokenCount: n };
}
