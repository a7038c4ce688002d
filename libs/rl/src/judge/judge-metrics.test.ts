import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPrng } from '../test-support/prng.js';
import { judgeAgreement } from './agreement.js';
import { auroc } from './auroc.js';
import { brierScore, expectedCalibrationError } from './calibration.js';
import { leastSquaresSlope } from './linear-trend.js';

function bruteForceAuroc(scores: number[], labels: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((sp, i) => {
    if (!labels[i]) return;
    scores.forEach((sn, j) => {
      if (labels[j]) return;
      pairs++;
      if (sp > sn) wins += 1;
      else if (sp === sn) wins += 0.5;
    });
  });
  return wins / pairs;
}

describe('judgeAgreement', () => {
  it('counts the confusion matrix at a threshold', () => {
    const r = judgeAgreement([0.9, 0.6, 0.4, 0.1, 0.5], [true, false, true, false, 1], 0.5);
    assert.deepEqual(
      { tp: r.truePositive, fp: r.falsePositive, tn: r.trueNegative, fn: r.falseNegative },
      { tp: 2, fp: 1, tn: 1, fn: 1 },
    );
    assert.equal(r.agreement, 3 / 5);
    assert.equal(judgeAgreement([0.6], [false], 0.7).agreement, 1);
    assert.ok(Number.isNaN(judgeAgreement([], []).agreement));
    assert.throws(() => judgeAgreement([0.5], [true, false]), /1 scores but 2 labels/);
  });
});

describe('auroc', () => {
  it('hand-computed cases', () => {
    assert.equal(auroc([0.1, 0.2, 0.8, 0.9], [false, false, true, true]), 1);
    assert.equal(auroc([0.9, 0.8, 0.2, 0.1], [false, false, true, true]), 0);
    assert.equal(auroc([0.5, 0.5, 0.5], [true, false, false]), 0.5);
    // pairs (p=0.7 vs n=0.3) win, (0.7 vs 0.7) tie, (0.3 vs 0.3) tie, (0.3 vs 0.7) loss → 2/4
    assert.equal(auroc([0.7, 0.3, 0.3, 0.7], [true, true, false, false]), 0.5);
    assert.ok(Number.isNaN(auroc([0.1, 0.2], [true, true])));
  });

  it('equals brute-force pair counting, with many ties', () => {
    const rand = createPrng(5);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + Math.floor(rand() * 40);
      const scores = Array.from({ length: n }, () => Math.floor(rand() * 6) / 5);
      const labels = scores.map((s) => rand() < 0.3 + 0.4 * s);
      if (labels.every(Boolean) || !labels.some(Boolean)) continue;
      const got = auroc(scores, labels);
      const want = bruteForceAuroc(scores, labels);
      assert.ok(Math.abs(got - want) < 1e-12, `trial ${trial}: ${got} vs ${want}`);
    }
  });
});

describe('brierScore / expectedCalibrationError', () => {
  it('Brier: hand-computed', () => {
    assert.ok(Math.abs(brierScore([0.9, 0.2, 0.5], [1, 0, 1]) - (0.01 + 0.04 + 0.25) / 3) < 1e-15);
    assert.throws(() => brierScore([1.2], [1]), /outside \[0, 1\]/);
  });

  it('ECE: hand-computed with two bins', () => {
    // bin [0, 0.5): p = 0.2, 0.4 → mean 0.3, outcomes 0, 1 → rate 0.5, gap 0.2
    // bin [0.5, 1]: p = 0.8, 1.0 → mean 0.9, outcomes 1, 1 → rate 1, gap 0.1
    const r = expectedCalibrationError([0.2, 0.4, 0.8, 1], [0, 1, 1, 1], 2);
    assert.ok(Math.abs(r.ece - (0.5 * 0.2 + 0.5 * 0.1)) < 1e-12);
    assert.ok(Math.abs(r.mce - 0.2) < 1e-12);
    assert.deepEqual(
      r.bins.map((b) => b.count),
      [2, 2],
    );
    assert.equal(r.bins[1]?.upper, 1);
  });

  it('ECE: a perfectly calibrated synthetic judge has small ECE, an overconfident one large', () => {
    const rand = createPrng(9);
    const p = Array.from({ length: 20000 }, () => rand());
    const calibrated = p.map((pi) => rand() < pi);
    const overconfident = p.map((pi) => rand() < 0.5 + (pi - 0.5) * 0.2);
    const good = expectedCalibrationError(p, calibrated, 10).ece;
    const bad = expectedCalibrationError(p, overconfident, 10).ece;
    assert.ok(good < 0.02, `calibrated ECE ${good}`);
    assert.ok(bad > 0.15, `overconfident ECE ${bad}`);
  });
});

describe('leastSquaresSlope', () => {
  it('recovers a line exactly', () => {
    assert.ok(Math.abs(leastSquaresSlope([0, 1, 2, 3], [1, 3, 5, 7]) - 2) < 1e-15);
    assert.ok(Number.isNaN(leastSquaresSlope([1], [1])));
    assert.ok(Number.isNaN(leastSquaresSlope([2, 2], [1, 3])));
  });
});
