import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNormal } from '../test-support/prng.js';
import { whiten } from './whiten.js';

describe('whiten', () => {
  it('hand-computed: [1, 2, 3] → [−1, 0, 1] with unbiased variance 1', () => {
    const out = whiten([1, 2, 3], undefined, { epsilon: 0 });
    assert.deepEqual([...out], [-1, 0, 1]);
    const kept = whiten([1, 2, 3], undefined, { epsilon: 0, shiftMean: false });
    assert.deepEqual([...kept], [1, 2, 3]);
  });

  it('masked entries are untouched and excluded from the statistics', () => {
    const out = whiten([1, 100, 2, 3], [1, 0, 1, 1], { epsilon: 0 });
    assert.deepEqual([...out], [-1, 100, 0, 1]);
  });

  it('property: mean 0 and variance 1 over the masked-in entries', () => {
    const normal = createNormal(3);
    for (let trial = 0; trial < 50; trial++) {
      const n = 3 + trial;
      const x = Array.from({ length: n }, () => normal() * 5 + 2);
      const mask = x.map((_, i) => (i % 4 === 3 ? 0 : 1));
      const out = whiten(x, mask, { epsilon: 0 });
      const kept = [...out].filter((_, i) => mask[i] === 1);
      const mean = kept.reduce((s, v) => s + v, 0) / kept.length;
      const variance = kept.reduce((s, v) => s + (v - mean) ** 2, 0) / (kept.length - 1);
      assert.ok(Math.abs(mean) < 1e-9 && Math.abs(variance - 1) < 1e-9, `${mean} ${variance}`);
    }
  });

  it('zero variance does not divide by zero', () => {
    assert.deepEqual([...whiten([2, 2, 2])], [0, 0, 0]);
  });
});
