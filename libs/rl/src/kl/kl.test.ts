import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPrng } from '../test-support/prng.js';
import { rolloutMismatchStats, sequenceImportanceWeight } from './importance-weights.js';
import { klPerToken, klTerm, meanKl } from './kl-estimators.js';

function close(a: number, b: number, tol = 1e-12): void {
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
}

/** Random categorical distribution over k outcomes, as log-probs. */
function randomLogDist(rand: () => number, k: number): number[] {
  const w = Array.from({ length: k }, () => rand() + 0.05);
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => Math.log(x / s));
}

describe('KL estimators', () => {
  it('hand-computed: log π = −1, log π_ref = −2', () => {
    close(klTerm('k1', -1, -2), 1);
    close(klTerm('k2', -1, -2), 0.5);
    close(klTerm('k3', -1, -2), Math.exp(-1) - 1 + 1);
    assert.deepEqual([...klPerToken('k3', [-1, -3], [-1, -3])], [0, 0]);
  });

  it('k1 and k3 are exactly unbiased: E_π[k] = KL(π‖π_ref) over a categorical', () => {
    const rand = createPrng(17);
    for (let trial = 0; trial < 50; trial++) {
      const k = 2 + Math.floor(rand() * 8);
      const logp = randomLogDist(rand, k);
      const logq = randomLogDist(rand, k);
      const exact = logp.reduce((s, lp, i) => s + Math.exp(lp) * (lp - (logq[i] as number)), 0);
      const expectation = (est: 'k1' | 'k3') =>
        logp.reduce((s, lp, i) => s + Math.exp(lp) * klTerm(est, lp, logq[i] as number), 0);
      close(expectation('k1'), exact, 1e-12);
      close(expectation('k3'), exact, 1e-12);
      for (let i = 0; i < k; i++) {
        assert.ok(klTerm('k3', logp[i] as number, logq[i] as number) >= 0);
        assert.ok(klTerm('k2', logp[i] as number, logq[i] as number) >= 0);
      }
    }
  });

  it('k3 keeps precision for nearly equal policies', () => {
    // (r − 1) − log r ≈ (log r)²/2 for small log r; naive exp(x) − 1 − x would lose it.
    close(klTerm('k3', 0, 1e-9), 5e-19, 1e-25);
  });

  it('meanKl averages over the masked-in tokens', () => {
    const s = meanKl([-1, -1, -5], [-2, -1, 0], [1, 1, 0]);
    assert.equal(s.tokenCount, 2);
    close(s.k1, 0.5);
    close(s.k2, 0.25);
    assert.ok(Number.isNaN(meanKl([], []).k1));
    assert.throws(() => meanKl([0], [0, 0]), /1 vs 2/);
  });
});

describe('sequenceImportanceWeight', () => {
  it('is exactly 1 when training and rollout agree', () => {
    const w = sequenceImportanceWeight([-0.3, -2.1], [-0.3, -2.1], { cap: 2 });
    assert.deepEqual(w, { weight: 1, logRatio: 0, truncated: false });
  });

  it('hand-computed sum and mean aggregation, cap and mask', () => {
    const train = [-1, -1.2, -0.5];
    const rollout = [-1.1, -1.5, -0.6]; // diffs 0.1, 0.3, 0.1 → sum 0.5
    const sum = sequenceImportanceWeight(train, rollout, { cap: 2 });
    close(sum.logRatio, 0.5);
    close(sum.weight, Math.exp(0.5));
    const capped = sequenceImportanceWeight(train, rollout, { cap: 1.2 });
    assert.equal(capped.weight, 1.2);
    assert.equal(capped.truncated, true);
    const mean = sequenceImportanceWeight(train, rollout, { cap: 2, aggregation: 'mean' });
    close(mean.weight, Math.exp(0.5 / 3));
    const masked = sequenceImportanceWeight(train, rollout, { cap: 2 }, [1, 0, 1]);
    close(masked.logRatio, 0.2);
  });

  it('caps a huge ratio at c instead of overflowing', () => {
    const w = sequenceImportanceWeight(new Array(100).fill(0), new Array(100).fill(-20), { cap: 5 });
    assert.equal(w.weight, 5);
    assert.equal(w.logRatio, 2000);
    const tiny = sequenceImportanceWeight([-50], [0], { cap: 5 });
    assert.ok(tiny.weight > 0 && tiny.weight < 1e-20);
  });
});

describe('rolloutMismatchStats', () => {
  it('zero for identical log-probs, hand-computed otherwise', () => {
    const same = rolloutMismatchStats([-1, -2], [-1, -2]);
    assert.deepEqual(same, { meanAbsLogprobDiff: 0, maxAbsLogprobDiff: 0, klK1: 0, klK3: 0, tokenCount: 2 });
    const s = rolloutMismatchStats([-1, -2], [-1.5, -1.8]); // d = 0.5, −0.2
    close(s.meanAbsLogprobDiff, 0.35);
    close(s.maxAbsLogprobDiff, 0.5);
    close(s.klK1, (-0.5 + 0.2) / 2);
    close(s.klK3, (Math.expm1(0.5) - 0.5 + Math.expm1(-0.2) + 0.2) / 2);
  });

  it('k3 mismatch KL is unbiased for KL(μ‖π) over a categorical', () => {
    const rand = createPrng(23);
    const mu = randomLogDist(rand, 6);
    const pi = randomLogDist(rand, 6);
    const exact = mu.reduce((s, lm, i) => s + Math.exp(lm) * (lm - (pi[i] as number)), 0);
    let expectation = 0;
    mu.forEach((lm, i) => {
      expectation += Math.exp(lm) * rolloutMismatchStats([pi[i] as number], [lm]).klK3;
    });
    close(expectation, exact, 1e-12);
  });
});
