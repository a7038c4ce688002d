import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGraph, createSessionPool, createTensor, toOnnxModel } from '../src/index.js';
import { arrOf, assertClose, tensorOf } from './harness.js';
import * as R from './reference.js';

const r = R.rng(5);

function matmulModel(n: number): Uint8Array {
  const g = createGraph();
  const a = g.input('a', 'float32', ['m', n]);
  const b = g.input('b', 'float32', [n, 'k']);
  g.output('c', g.matmul(a, b));
  return toOnnxModel(g);
}

function softmaxModel(): Uint8Array {
  const g = createGraph();
  const x = g.input('x', 'float64', ['rows', 'cols']);
  g.output('p', g.softmax(x));
  return toOnnxModel(g);
}

test('two models run concurrently in two workers with correct results', async () => {
  const pool = createSessionPool({ workers: 2, intraOpThreadsPerWorker: 1 });
  try {
    // Loaded concurrently: each must still land in its own worker.
    const [mm, sm] = await Promise.all([
      pool.load(matmulModel(64)),
      pool.load(softmaxModel(), { optimizationLevel: 'basic' }),
    ]);
    assert.deepEqual([...mm.workers, ...sm.workers].sort(), [0, 1]);
    assert.deepEqual(mm.inputNames, ['a', 'b']);
    assert.deepEqual(sm.outputNames, ['p']);
    const cases = Array.from({ length: 4 }, () => ({
      a: R.randn([8, 64], r),
      b: R.randn([64, 5], r),
      x: R.randn([3, 7], r, 3),
    }));
    const results = await Promise.all(
      cases.flatMap((c) => [
        mm.run({ a: tensorOf(c.a), b: tensorOf(c.b) }),
        sm.run({ x: tensorOf(c.x, 'float64') }),
      ]),
    );
    cases.forEach((c, i) => {
      assertClose(arrOf(results[2 * i]?.c), R.matmul(c.a, c.b), 1e-5, `matmul ${i}`);
      assertClose(arrOf(results[2 * i + 1]?.p), R.softmax(c.x), 1e-12, `softmax ${i}`);
    });
  } finally {
    await pool.close();
  }
});

test('feeds are transferred (detached) by default and kept with copyInputs', async () => {
  const pool = createSessionPool({ workers: 1 });
  try {
    const s = await pool.load(matmulModel(2), { replicas: 2 });
    assert.deepEqual(s.workers, [0], 'replicas are capped at the worker count');
    const a = createTensor('float32', [1, 2], Float32Array.from([1, 2]));
    const b = createTensor('float32', [2, 1], Float32Array.from([3, 4]));
    const kept = await s.run({ a, b }, { copyInputs: true });
    assert.equal(a.data.length, 2, 'copyInputs keeps the caller buffer');
    assert.deepEqual(Array.from(kept.c?.data as Float32Array), [11]);
    const moved = await s.run({ a, b }, { outputs: ['c'] });
    assert.equal(a.data.length, 0, 'default run detaches the caller buffer');
    assert.deepEqual(Array.from(moved.c?.data as Float32Array), [11]);
  } finally {
    await pool.close();
  }
});

test('run errors reject without killing the worker; a closed pool rejects', async () => {
  const pool = createSessionPool({ workers: 1 });
  const s = await pool.load(matmulModel(2));
  const bad = { a: createTensor('float32', [1, 3], new Float32Array(3)), b: createTensor('float32', [2, 1]) };
  await assert.rejects(s.run(bad));
  const ok = await s.run({
    a: createTensor('float32', [1, 2], Float32Array.from([1, 1])),
    b: createTensor('float32', [2, 1], Float32Array.from([2, 3])),
  });
  assert.deepEqual(Array.from(ok.c?.data as Float32Array), [5]);
  await assert.rejects(pool.load(new Uint8Array([1, 2, 3])));
  await s.release();
  await pool.close();
  await assert.rejects(s.run({}), /closed/);
});
