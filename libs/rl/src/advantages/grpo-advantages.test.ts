import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPrng } from '../test-support/prng.js';
import { advantagesToLossInputs, computeGroupAdvantages, computeGrpoAdvantages } from './grpo-advantages.js';

function close(actual: number | null, expected: number, tol = 1e-12): void {
  assert.ok(actual !== null, 'expected a number, got null');
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);
}

describe('computeGroupAdvantages', () => {
  it('matches a hand-computed group with sample std', () => {
    // rewards 1,0,0,1: mean 0.5, sample var = 4·0.25/3 = 1/3, std = 0.57735...
    const g = computeGroupAdvantages([1, 0, 0, 1], { epsilon: 0 });
    const std = Math.sqrt(1 / 3);
    close(g.mean, 0.5);
    close(g.std, std);
    close(g.advantages[0] ?? null, 0.5 / std);
    close(g.advantages[1] ?? null, -0.5 / std);
    assert.equal(g.zeroVariance, false);
  });

  it('population std and centring only', () => {
    const pop = computeGroupAdvantages([1, 0, 0, 1], { epsilon: 0, stdEstimator: 'population' });
    close(pop.advantages[0] ?? null, 1); // std = 0.5
    const centred = computeGroupAdvantages([1, 0, 0, 0], { scaleByStd: false });
    assert.deepEqual(centred.advantages, [0.75, -0.25, -0.25, -0.25]);
  });

  it('epsilon is added to the std', () => {
    const g = computeGroupAdvantages([2, 0], { epsilon: 0.5, stdEstimator: 'population' });
    close(g.advantages[0] ?? null, 1 / 1.5);
  });

  it('zero-variance groups give exactly zero advantages, with and without std', () => {
    for (const scaleByStd of [true, false]) {
      // 0.1 summed three times is not 0.3: plain mean-centring would leave ±1e-17 noise,
      // and dividing that by eps would amplify it.
      const g = computeGroupAdvantages([0.1, 0.1, 0.1], { scaleByStd });
      assert.equal(g.zeroVariance, true);
      assert.deepEqual(g.advantages, [0, 0, 0]);
    }
    const single = computeGroupAdvantages([null, 1, null]);
    assert.equal(single.zeroVariance, true);
    assert.deepEqual(single.advantages, [null, 0, null]);
  });

  it('masked samples get null and do not enter the statistics', () => {
    const masked = computeGroupAdvantages([1, null, 0, null, 1, 0]);
    const dense = computeGroupAdvantages([1, 0, 1, 0]);
    assert.deepEqual(masked.advantages, [
      dense.advantages[0],
      null,
      dense.advantages[1],
      null,
      dense.advantages[2],
      dense.advantages[3],
    ]);
    assert.equal(masked.validCount, 4);
    const all = computeGroupAdvantages([null, null]);
    assert.deepEqual(all.advantages, [null, null]);
    assert.ok(Number.isNaN(all.mean));
  });

  it('rejects non-finite rewards (they must be masked explicitly)', () => {
    assert.throws(() => computeGroupAdvantages([1, Number.NaN]), /not finite/);
  });

  it('properties: zero sum, unit population variance, shift/scale invariance', () => {
    const rand = createPrng(7);
    for (let trial = 0; trial < 200; trial++) {
      const size = 2 + Math.floor(rand() * 14);
      const rewards = Array.from({ length: size }, () => (rand() < 0.15 ? null : Math.round(rand() * 4) / 4));
      const g = computeGroupAdvantages(rewards, { epsilon: 0, stdEstimator: 'population' });
      const valid = g.advantages.filter((a): a is number => a !== null);
      assert.equal(valid.length, g.validCount);
      if (g.zeroVariance) {
        assert.ok(valid.every((a) => a === 0));
        continue;
      }
      const sum = valid.reduce((s, a) => s + a, 0);
      const sumSq = valid.reduce((s, a) => s + a * a, 0);
      assert.ok(Math.abs(sum) < 1e-9, `sum ${sum}`);
      assert.ok(Math.abs(sumSq - valid.length) < 1e-9, `sumSq ${sumSq}`);
      const shift = rand() * 10 - 5;
      const scale = 0.1 + rand() * 10;
      const moved = computeGroupAdvantages(
        rewards.map((r) => (r === null ? null : r * scale + shift)),
        { epsilon: 0, stdEstimator: 'population' },
      );
      moved.advantages.forEach((a, i) => {
        const b = g.advantages[i];
        if (b === null || b === undefined) assert.equal(a, null);
        else close(a, b, 1e-9);
      });
      const centred = computeGroupAdvantages(rewards, { scaleByStd: false });
      const centredScaled = computeGroupAdvantages(
        rewards.map((r) => (r === null ? null : r * scale)),
        { scaleByStd: false },
      );
      centredScaled.advantages.forEach((a, i) => {
        const b = centred.advantages[i];
        if (b === null || b === undefined) assert.equal(a, null);
        else close(a, b * scale, 1e-9);
      });
    }
  });
});

describe('computeGrpoAdvantages / advantagesToLossInputs', () => {
  it('normalises each group independently', () => {
    const [a, b] = computeGrpoAdvantages(
      [
        [1, 0],
        [5, 5],
      ],
      { scaleByStd: false },
    );
    assert.deepEqual(a?.advantages, [0.5, -0.5]);
    assert.deepEqual(b?.advantages, [0, 0]);
  });

  it('masked samples become mask 0', () => {
    const { advantages, mask } = advantagesToLossInputs([0.5, null, -0.5]);
    assert.deepEqual([...advantages], [0.5, 0, -0.5]);
    assert.deepEqual([...mask], [1, 0, 1]);
  });
});
