import assert from 'node:assert/strict';
import { test } from 'node:test';
import { halvesCosine } from './gradient-agreement.js';

const map = (entries: Record<string, number[]>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, Float32Array.from(v)]));

test('halvesCosine: cosine of the first half against total·scale − first half, over every tensor', () => {
  // First half a = [1, 0 | 2], second half b = [0, 1 | 2]: a·b = 4, |a|² = 5, |b|² = 5 → 0.8.
  const first = map({ w: [1, 0], v: [2] });
  const meanOfTwo = map({ w: [0.5, 0.5], v: [2] }); // (a + b) / 2
  assert.ok(Math.abs(halvesCosine(first, meanOfTwo, 2) - 0.8) < 1e-7);
  // Halves that agree exactly → 1; opposite halves → −1.
  assert.ok(Math.abs(halvesCosine(map({ w: [3, -1] }), map({ w: [6, -2] })) - 1) < 1e-7);
  assert.ok(Math.abs(halvesCosine(map({ w: [3, -1] }), map({ w: [0, 0] })) + 1) < 1e-7);
  // a = [3, −1], b = [1, 1] − a = [−2, 2]: a·b = −8, |a|² = 10, |b|² = 8.
  assert.ok(Math.abs(halvesCosine(map({ w: [3, -1] }), map({ w: [1, 1] })) + 8 / Math.sqrt(80)) < 1e-7);
  assert.ok(
    Number.isNaN(halvesCosine(map({ w: [0, 0] }), map({ w: [1, 1] }))),
    'a zero half has no direction',
  );
  assert.throws(() => halvesCosine(map({ w: [1] }), map({ u: [1] })), /w is missing/);
});
