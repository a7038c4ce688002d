import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRng } from '../prng.js';
import {
  logGamma,
  normalCdf,
  normalQuantile,
  regularizedBeta,
  studentTCdf,
  studentTQuantile,
} from './distributions.js';
import { accuracyInterval, minimumDetectableDifference, wilsonInterval } from './intervals.js';
import { comparePaired, mcnemarTest, pairedBootstrap, pairedTTest } from './paired.js';

// Reference values below were computed with SciPy 1.17 (norm, t, betainc, binomtest, ttest_rel).
const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

/** Builds paired 0/1 vectors with the given counts of (A,B) = (1,1), (1,0), (0,1), (0,0). */
function pairs(both: number, onlyA: number, onlyB: number, neither: number): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  const push = (x: number, y: number, k: number) => {
    for (let i = 0; i < k; i++) {
      a.push(x);
      b.push(y);
    }
  };
  push(1, 1, both);
  push(1, 0, onlyA);
  push(0, 1, onlyB);
  push(0, 0, neither);
  return [a, b];
}

describe('distributions', () => {
  test('normal, t, incomplete beta and log-gamma against SciPy', () => {
    close(normalQuantile(0.975), 1.959963984540054, 1e-9, 'z .975');
    close(normalQuantile(0.001), -3.090232306167813, 1e-9, 'z .001');
    close(normalQuantile(1e-10), -6.361340902404056, 1e-7, 'z 1e-10');
    close(normalCdf(-3), 0.0013498980316300933, 1e-13, 'Φ(-3)');
    close(normalCdf(1), 0.8413447460685429, 1e-12, 'Φ(1)');
    close(studentTQuantile(0.975, 9), 2.262157162798205, 1e-9, 't .975 df 9');
    close(studentTQuantile(0.975, 1), 12.706204736174694, 1e-8, 't .975 df 1');
    close(studentTQuantile(0.975, 999), 1.9623414611334493, 1e-9, 't .975 df 999');
    close(studentTCdf(2, 5), 0.9490302605850708, 1e-12, 'T5(2)');
    close(regularizedBeta(0.4, 2.5, 3.5), 0.4869041915261176, 1e-12, 'I_.4(2.5,3.5)');
    close(logGamma(0.3), 1.0957979948180752, 1e-12, 'lnΓ(.3)');
    close(logGamma(101), 363.73937555556347, 1e-10, 'lnΓ(101)');
  });
});

describe('single-arm intervals', () => {
  test('Wilson interval by hand; the ends are exact at 0 and n', () => {
    const w = wilsonInterval(26, 100);
    close(w.lo, 0.18404698464748132, 1e-12, 'lo 26/100');
    close(w.hi, 0.3537098944918718, 1e-12, 'hi 26/100');
    const big = wilsonInterval(260, 1000);
    close(big.lo, 0.23376861850763092, 1e-12, 'lo 260/1000');
    close(big.hi, 0.2880682255654355, 1e-12, 'hi 260/1000');
    assert.equal(wilsonInterval(0, 10).lo, 0);
    close(wilsonInterval(0, 10).hi, 0.2775327998628892, 1e-12, 'hi 0/10');
    close(wilsonInterval(10, 10).hi, 1, 1e-15, 'hi 10/10');
  });

  test('accuracyInterval: Wilson for 0/1 scores, t for fractions', () => {
    const [a] = pairs(26, 0, 0, 74);
    const w = accuracyInterval(a);
    assert.equal(w.method, 'wilson');
    assert.equal(w.mean, 0.26);
    close(w.lo, 0.18404698464748132, 1e-12, 'lo');
    const f = accuracyInterval([0.5, 0.25, 1, 0.75, 0, 0.5]);
    assert.equal(f.method, 't');
    close(f.mean, 0.5, 1e-15, 'mean');
    // sd = √(0.125) over 6 problems, t(.975, 5) = 2.5706.
    close(f.hi - f.mean, 2.570581835636314 * Math.sqrt(0.125 / 6), 1e-9, 'half width');
  });

  test('bad input names the field: n = 0, out-of-range scores, level', () => {
    assert.throws(() => accuracyInterval([]), { field: 'scores', message: /n = 0/ });
    assert.throws(() => accuracyInterval([0, 1.5]), { field: 'scores[1]', message: /\[0, 1\]/ });
    assert.throws(() => wilsonInterval(0, 0), { field: 'n', code: 'INVALID_ARGUMENT' });
    assert.throws(() => wilsonInterval(11, 10), { field: 'successes' });
    assert.throws(() => accuracyInterval([1], 1), { field: 'level' });
  });

  test('minimum detectable difference: 12.3 points at n = 200, 5.5 at 1,000, 2.7 paired', () => {
    close(minimumDetectableDifference({ n: 200, accuracy: 0.26 }).unpaired, 0.12288712141183733, 1e-9, '200');
    const m = minimumDetectableDifference({ n: 1000, accuracy: 0.26, discordance: 0.09 });
    close(m.unpaired, 0.05495679140722764, 1e-9, '1000');
    close(m.paired!, 0.026578171044889787, 1e-9, 'paired');
    assert.throws(() => minimumDetectableDifference({ n: 0, accuracy: 0.3 }), { field: 'n' });
    assert.throws(() => minimumDetectableDifference({ n: 10, accuracy: 1 }), { field: 'accuracy' });
  });
});

describe('paired comparisons', () => {
  test('McNemar exact and mid-p equal a brute-force enumeration of the discordant signs', () => {
    for (const [onlyA, onlyB] of [
      [3, 12],
      [0, 5],
      [7, 7],
      [1, 0],
      [9, 2],
    ] as const) {
      const [a, b] = pairs(4, onlyA, onlyB, 6);
      const r = mcnemarTest(a, b);
      assert.equal(r.onlyA, onlyA);
      assert.equal(r.onlyB, onlyB);
      // Under H0 every discordant problem is A-only or B-only with probability ½: enumerate all 2^d.
      const d = onlyA + onlyB;
      const observed = Math.abs(onlyA - onlyB);
      let asExtreme = 0;
      let equallyExtreme = 0;
      for (let mask = 0; mask < 2 ** d; mask++) {
        let x = 0;
        for (let i = 0; i < d; i++) x += (mask >> i) & 1;
        const dev = Math.abs(x - (d - x));
        if (dev >= observed) asExtreme++;
        if (dev === observed) equallyExtreme++;
      }
      close(r.pExact, asExtreme / 2 ** d, 1e-12, `exact ${onlyA}/${onlyB}`);
      // Mid-p counts the observed table's own probability half; when A-only = B-only the doubled
      // one-sided mid-p (Fagerland et al. 2013) exceeds 1 and is capped there.
      const mid = onlyA === onlyB ? 1 : (asExtreme - equallyExtreme / 2) / 2 ** d;
      close(r.pMid, mid, 1e-12, `mid ${onlyA}/${onlyB}`);
    }
    // SciPy: binomtest(3, 15).pvalue = 0.03515625; mid-p 0.021270751953125.
    const [a, b] = pairs(0, 3, 12, 0);
    close(mcnemarTest(a, b).pExact, 0.03515625, 1e-12, 'scipy exact');
    close(mcnemarTest(a, b).pMid, 0.021270751953125, 1e-12, 'scipy mid');
  });

  test('paired t against SciPy ttest_rel', () => {
    const t = pairedTTest([0.5, 0.25, 1, 0.75, 0, 0.5], [0.25, 0.25, 0.5, 0.75, 0.25, 0]);
    close(t.p, 0.23538747727819012, 1e-10, 'p');
    close(t.lo, -0.1510657520066939, 1e-10, 'lo');
    close(t.hi, 0.4843990853400272, 1e-10, 'hi');
    assert.equal(t.df, 5);
  });

  test('paired bootstrap: seeded, covers the difference, and close to the normal interval at n = 1,000', () => {
    const rng = createRng('boot');
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const right = rng.next() < 0.3 ? 1 : 0;
      a.push(right);
      // B agrees with A on ~90 % of problems, and is a little better.
      const u = rng.next();
      b.push(u < 0.88 ? right : u < 0.97 ? 1 : 0);
    }
    const r1 = pairedBootstrap(a, b, { seed: 7 });
    const r2 = pairedBootstrap(a, b, { seed: 7 });
    assert.deepEqual(r1, r2, 'same seed, same interval');
    assert.equal(r1.resamples, 10_000);
    assert.ok(r1.lo < r1.diff && r1.diff < r1.hi);
    // The bootstrap interval agrees with the paired t one to within Monte Carlo error.
    const t = pairedTTest(a, b);
    close(r1.lo, t.lo, 0.004, 'lo vs t');
    close(r1.hi, t.hi, 0.004, 'hi vs t');
    assert.notDeepEqual(pairedBootstrap(a, b, { seed: 8 }), r1, 'another seed resamples differently');
  });

  test('comparePaired: McNemar mid-p for 0/1, paired t for fractions; all ties give a zero-width interval and p = 1', () => {
    const [a, b] = pairs(20, 3, 12, 15);
    const c = comparePaired(a, b, { resamples: 2000 });
    assert.equal(c.test, 'mcnemar-mid-p');
    assert.equal(c.p, c.mcnemar!.pMid);
    close(c.diff, (3 - 12) / 50, 1e-15, 'diff');
    assert.ok(c.hi < 0, 'B clearly better: the interval excludes 0');
    const f = comparePaired([0.5, 0.25, 1, 0.75, 0, 0.5], [0.25, 0.25, 0.5, 0.75, 0.25, 0], {
      resamples: 2000,
    });
    assert.equal(f.test, 'paired-t');
    assert.equal(f.mcnemar, undefined);
    close(f.p, 0.23538747727819012, 1e-10, 'p');
    const ties = comparePaired([1, 0, 1, 0.5], [1, 0, 1, 0.5], { resamples: 500 });
    assert.deepEqual([ties.diff, ties.lo, ties.hi, ties.p], [0, 0, 0, 1]);
    const [sa, sb] = pairs(5, 0, 0, 5);
    const binTies = comparePaired(sa, sb, { resamples: 500 });
    assert.equal(binTies.mcnemar!.discordant, 0);
    assert.equal(binTies.p, 1);
  });

  test('bad input names the field: n = 0, mismatched lengths, too few resamples', () => {
    assert.throws(() => comparePaired([], []), { field: 'a', message: /n = 0/, code: 'INVALID_ARGUMENT' });
    assert.throws(() => comparePaired([1, 0], [1]), { field: 'b', message: /same 2 problems/ });
    assert.throws(() => pairedBootstrap([1], [0], { resamples: 10 }), { field: 'resamples' });
    assert.throws(() => mcnemarTest([0.5], [1]), { field: 'a[0]', message: /0\/1/ });
    assert.throws(() => comparePaired([Number.NaN], [1]), { field: 'a[0]' });
  });
});
