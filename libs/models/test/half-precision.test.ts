import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  f32ToF16Bits,
  isModelError,
  loadLlamaFamilyConfig,
  loadLlamaWeights,
  readSafetensors,
  referenceGreedy,
  toWeightMap,
  writeSafetensors,
} from '../src/index.js';
import { loadStoriesReference, maxAbsDiff, storiesDir } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'verdict-f16-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Writes `values` as one F16 tensor and reads them back through the loader (F16 → F32). */
function roundTrip(values: number[]): number[] {
  const path = join(work, `t${Math.random().toString(36).slice(2)}.safetensors`);
  writeSafetensors(
    path,
    new Map([['t', { shape: [values.length], data: Float32Array.from(values) }]]),
    {},
    'F16',
  );
  return [...readSafetensors(path).get('t')!.data];
}

describe('float16 writing', () => {
  it('exact where half precision is exact; ties to even; subnormals; overflow and NaN', () => {
    const exact = [0, -0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 3 * 2 ** -24, 1 + 2 ** -10, 1000.5];
    assert.deepEqual(roundTrip(exact), exact);
    assert.deepEqual(roundTrip([1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -26, 1e-9]), [
      1,
      1 + 2 ** -9,
      0,
      2 ** -24,
      0,
    ]);
    assert.equal(f32ToF16Bits(65520), 0x7c00, 'rounds up past the largest half: +Inf');
    assert.equal(f32ToF16Bits(Number.POSITIVE_INFINITY), 0x7c00);
    assert.equal(f32ToF16Bits(Number.NEGATIVE_INFINITY), 0xfc00);
    assert.ok(Number.isNaN(roundTrip([Number.NaN])[0]!));
    assert.equal(f32ToF16Bits(2 ** -15 * (1 + 2 ** -10)), 0x0200, 'a subnormal: 2^-15 → 512 · 2^-24');
  });

  it('every float32 rounds to its nearest half (10,000 random values, relative error ≤ 2^-11)', () => {
    let s = 12345;
    const next = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const xs = Array.from({ length: 10_000 }, () => (next() - 0.5) * 2 ** (Math.floor(next() * 30) - 14));
    const back = roundTrip(xs);
    xs.forEach((x, i) => {
      const f = Math.fround(x);
      const tol = Math.abs(f) >= 2 ** -14 ? Math.abs(f) * 2 ** -11 : 2 ** -25;
      assert.ok(Math.abs(back[i]! - f) <= tol, `${f} → ${back[i]}`);
    });
  });

  it('a value beyond ±65504 is an error naming the tensor, not a silent infinity', () => {
    assert.throws(
      () =>
        writeSafetensors(
          join(work, 'big.safetensors'),
          new Map([['model.big', { shape: [2], data: Float32Array.from([1, 70000]) }]]),
          {},
          'F16',
        ),
      (e: unknown) => isModelError(e) && /model\.big holds 70000, beyond float16/.test(e.message),
    );
  });

  it('stories260k in half precision: the reference greedy ids, logits within 2e-2 of float32', () => {
    const config = loadLlamaFamilyConfig(storiesDir());
    const weights = loadLlamaWeights(storiesDir(), config);
    const path = join(work, 'stories-f16.safetensors');
    writeSafetensors(path, toWeightMap(config, weights), {}, 'F16');
    const halfWeights = new Map([...readSafetensors(path)].map(([k, t]) => [k, t.data]));
    const ref = loadStoriesReference();
    let worst = 0;
    let sameIds = 0;
    let ids = 0;
    for (const c of ref.cases) {
      const full = referenceGreedy(config, weights, c.input_ids, 48);
      const half = referenceGreedy(config, halfWeights, c.input_ids, 48);
      worst = Math.max(worst, maxAbsDiff(half.firstLogits, full.firstLogits));
      for (let i = 0; i < full.ids.length; i++) sameIds += half.ids[i] === full.ids[i] ? 1 : 0;
      ids += full.ids.length;
    }
    assert.ok(worst < 2e-2, `max |Δ logit| ${worst}`);
    assert.equal(sameIds, ids, `${sameIds}/${ids} greedy ids equal`);
  });
});
