import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createNormal, createPrng } from '../test-support/prng.js';
import { brierScore, expectedCalibrationError } from './calibration.js';
import {
  formatJudgeCalibration,
  JUDGE_CALIBRATION_FORMAT,
  type JudgeCalibrationDocument,
  parseJudgeCalibration,
} from './judge-calibration-file.js';
import { applyTemperatureScaling, fitTemperatureScaling, meanNll, sigmoid } from './temperature-scaling.js';

/** n margins ~ N(shift, spread²) with labels drawn from the true map σ((m − bias) / T). */
function synthetic(n: number, truth: { temperature: number; bias: number }, seed: number, spread = 4) {
  const normal = createNormal(seed);
  const uniform = createPrng(seed + 1000);
  const margins: number[] = [];
  const labels: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const m = 1 + spread * normal();
    margins.push(m);
    labels.push(uniform() < applyTemperatureScaling(m, truth));
  }
  return { margins, labels };
}

describe('fitTemperatureScaling', () => {
  it('recovers a known temperature and bias from synthetic logits', () => {
    for (const truth of [
      { temperature: 2.5, bias: 0.8 },
      { temperature: 0.6, bias: -1.5 },
      { temperature: 1, bias: 0 },
    ]) {
      const { margins, labels } = synthetic(20_000, truth, 7);
      const fit = fitTemperatureScaling(margins, labels);
      assert.ok(
        Math.abs(fit.temperature / truth.temperature - 1) < 0.06,
        `T ${fit.temperature} vs ${truth.temperature}`,
      );
      assert.ok(Math.abs(fit.bias - truth.bias) < 0.15 * Math.max(1, truth.temperature), `bias ${fit.bias}`);
      assert.ok(fit.nllAfter <= fit.nllBefore + 1e-12);
      assert.ok(fit.iterations < 50, `${fit.iterations} Newton steps`);
    }
  });

  it('with fitBias false fits the temperature alone (bias stays 0)', () => {
    const { margins, labels } = synthetic(20_000, { temperature: 3, bias: 0 }, 3);
    const fit = fitTemperatureScaling(margins, labels, { fitBias: false });
    assert.equal(fit.bias, 0);
    assert.ok(Math.abs(fit.temperature / 3 - 1) < 0.06, `T ${fit.temperature}`);
  });

  it('is the NLL minimum: nudging either parameter makes the NLL worse', () => {
    const { margins, labels } = synthetic(2_000, { temperature: 1.7, bias: 0.4 }, 11);
    const fit = fitTemperatureScaling(margins, labels);
    const best = meanNll(margins, labels, fit);
    assert.ok(Math.abs(best - fit.nllAfter) < 1e-12);
    for (const [dt, db] of [
      [0.02, 0],
      [-0.02, 0],
      [0, 0.02],
      [0, -0.02],
    ] as const) {
      const nudged = meanNll(margins, labels, { temperature: fit.temperature + dt, bias: fit.bias + db });
      assert.ok(nudged > best, `(${dt}, ${db}): ${nudged} vs ${best}`);
    }
  });

  it('lowers the ECE and Brier score on a held-out split of an over-confident judge', () => {
    // The raw judge reads σ(m) while the truth is σ(m / 3): confident and often wrong.
    const { margins, labels } = synthetic(6_000, { temperature: 3, bias: 0.5 }, 21);
    const fit = fitTemperatureScaling(margins.slice(0, 3_000), labels.slice(0, 3_000));
    const heldM = margins.slice(3_000);
    const heldY = labels.slice(3_000);
    const raw = heldM.map((m) => sigmoid(m));
    const calibrated = heldM.map((m) => applyTemperatureScaling(m, fit));
    const before = expectedCalibrationError(raw, heldY, 10).ece;
    const after = expectedCalibrationError(calibrated, heldY, 10).ece;
    assert.ok(after < before / 2, `ECE ${before} → ${after}`);
    assert.ok(brierScore(calibrated, heldY) < brierScore(raw, heldY));
  });

  it('keeps the parameters finite on a separable pool', () => {
    const fit = fitTemperatureScaling([-3, -2, -1, 1, 2, 3], [0, 0, 0, 1, 1, 1]);
    assert.ok(Number.isFinite(fit.temperature) && fit.temperature > 0, String(fit.temperature));
    assert.ok(Number.isFinite(fit.bias));
  });

  it('refuses a single class and margins that rank the pool backwards, naming why', () => {
    assert.throws(
      () => fitTemperatureScaling([0.1, 2, 3], [1, 1, 1]),
      /needs both labels \(got 3 positive of 3\)/,
    );
    assert.throws(() => fitTemperatureScaling([1, 2], [0]), /2 scores but 1 labels/);
    const { margins, labels } = synthetic(500, { temperature: 1, bias: 0 }, 5);
    assert.throws(
      () =>
        fitTemperatureScaling(
          margins,
          labels.map((y) => !y),
        ),
      /slope is -?[0-9.e-]+ \(≤ 0\)/,
    );
  });
});

describe('calibration.json', () => {
  const doc: JudgeCalibrationDocument = {
    format: JUDGE_CALIBRATION_FORMAT,
    method: 'temperature-bias',
    margin: 'z_yes - z_no',
    temperature: 1.8,
    bias: -0.25,
    judge: { model_id: 'toy', template_name: 'plain', template_hash: 'a'.repeat(64) },
    pool: {
      file: 'pool.jsonl',
      sha256: 'b'.repeat(64),
      items: 4,
      positives: 2,
      fit_items: 3,
      held_out_items: 1,
      seed: 0,
    },
    bins: 10,
    metrics: {
      fit: {
        items: 3,
        ece_before: 0.2,
        ece_after: 0.1,
        brier_before: 0.3,
        brier_after: 0.2,
        nll_before: 1,
        nll_after: 0.5,
      },
      held_out: {
        items: 1,
        ece_before: 0.2,
        ece_after: 0.1,
        brier_before: 0.3,
        brier_after: 0.2,
        nll_before: 1,
        nll_after: 0.5,
      },
    },
  };

  it('round-trips the parameters and hashes the bytes', () => {
    const text = formatJudgeCalibration(doc);
    const loaded = parseJudgeCalibration(text, 'c.json');
    assert.equal(loaded.temperature, 1.8);
    assert.equal(loaded.bias, -0.25);
    assert.equal(loaded.templateName, 'plain');
    assert.equal(loaded.templateHash, 'a'.repeat(64));
    assert.equal(loaded.hash, createHash('sha256').update(text).digest('hex'));
  });

  it('refuses a file it cannot apply, naming the file and the field', () => {
    const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...doc, ...patch });
    assert.throws(() => parseJudgeCalibration('{', 'c.json'), /c\.json: \(file\) is not JSON/);
    assert.throws(() => parseJudgeCalibration(bad({ format: 'x' }), 'c.json'), /c\.json: format must be/);
    assert.throws(
      () => parseJudgeCalibration(bad({ temperature: 0 }), 'c.json'),
      /temperature must be a finite number > 0/,
    );
    assert.throws(() => parseJudgeCalibration(bad({ bias: 'x' }), 'c.json'), /bias must be a finite number/);
    assert.throws(
      () => parseJudgeCalibration(bad({ judge: { template_name: 'plain', template_hash: 'zz' } }), 'c.json'),
      /judge\.template_hash must be a hex sha256/,
    );
  });
});
