import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createGraph,
  createSessionPool,
  createTensor,
  type PooledSession,
  type SessionPool,
  toOnnxModel,
} from '../src/index.js';
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

/** A cache-shaped graph: `past` [2, 1, cap, 2] is read (its sum), `x` [2, 1, 1, 2] comes back doubled as `fresh`. */
function cacheModel(): Uint8Array {
  const g = createGraph();
  const past = g.input('past', 'float32', [2, 1, 'cap', 2]);
  const x = g.input('x', 'float32', [2, 1, 1, 2]);
  g.output('total', g.sum(past, [0, 1, 2, 3]));
  g.output('fresh', g.add(x, x));
  return toOnnxModel(g);
}

test('retained feeds stay in the worker: later runs read them, outputs are written into them, take hands them back', async () => {
  const pool = createSessionPool({ workers: 2 });
  try {
    // Two copies: runs from retained state must go to the worker that holds it.
    const s = await pool.load(cacheModel(), { replicas: 2 });
    assert.deepEqual([...s.workers].sort(), [0, 1]);
    const cap = 4;
    const x = (v: number) =>
      createTensor('float32', [2, 1, 1, 2], Float32Array.from([v, v + 1, v + 2, v + 3]));
    const write = (at: number) => [{ output: 'fresh', into: 'past', at }];
    const first = await s.run(
      { past: createTensor('float32', [2, 1, cap, 2]), x: x(1) },
      { retain: { key: 'k', feeds: ['past'] }, writeRetained: write(0) },
    );
    assert.equal(arrOf(first.total).data[0], 0);
    assert.deepEqual(
      Object.keys(first).sort(),
      ['total'],
      'written outputs and retained feeds stay in the worker',
    );
    for (let at = 1; at < cap; at++) {
      const out = await s.run(
        { x: x(10 * at) },
        { fromRetained: 'k', retain: { key: 'k', feeds: ['past'] }, writeRetained: write(at) },
      );
      // Sum of everything written before this run: 2 × (1+2+3+4), then 2 × (10a + 10a+1 + 10a+2 + 10a+3) per step a.
      const expected =
        2 * 10 + Array.from({ length: at - 1 }, (_, a) => 2 * (40 * (a + 1) + 6)).reduce((p, q) => p + q, 0);
      assert.equal(arrOf(out.total).data[0], expected, `run ${at}`);
    }
    const back = await s.takeRetained('k');
    // Row b, position t: [2·v, 2·(v+1)] for row 0 and [2·(v+2), 2·(v+3)] for row 1, v = 1 then 10t.
    const v = (t: number) => (t === 0 ? 1 : 10 * t);
    const expectedPast = [0, 1].flatMap((row) =>
      Array.from({ length: cap }, (_, t) => [2 * (v(t) + 2 * row), 2 * (v(t) + 2 * row + 1)]).flat(),
    );
    assert.deepEqual([...(back.past!.data as Float32Array)], expectedPast);
    await assert.rejects(s.run({ x: x(1) }, { fromRetained: 'k' }), /no tensors retained under "k"/);
    await assert.rejects(s.takeRetained('k'), /no tensors retained under "k"/);
    await s.dropRetained('never-retained');
  } finally {
    await pool.close();
  }
});

test('a write outside the retained buffer, or of the wrong shape, is refused by name', async () => {
  const pool = createSessionPool({ workers: 1 });
  try {
    const s = await pool.load(cacheModel());
    const feeds = () => ({
      past: createTensor('float32', [2, 1, 2, 2]),
      x: createTensor('float32', [2, 1, 1, 2]),
    });
    await assert.rejects(
      s.run(feeds(), { writeRetained: [{ output: 'fresh', into: 'past', at: 2 }] }),
      /writeRetained fresh → past: position 2 outside \[0, 2\)/,
    );
    await assert.rejects(
      s.run(feeds(), { writeRetained: [{ output: 'total', into: 'past', at: 0 }] }),
      /writeRetained total → past: \[\] does not fit \[2,1,2,2\]/,
    );
    // The retained state survives a dropped key being dropped again.
    await s.run(feeds(), { retain: { key: 'a', feeds: ['past'] } });
    await s.dropRetained('a');
    await s.dropRetained('a');
    await assert.rejects(
      s.run({ x: createTensor('float32', [2, 1, 1, 2]) }, { fromRetained: 'a' }),
      /no tensors retained/,
    );
  } finally {
    await pool.close();
  }
});

/** `gc()` without --expose-gc on the command line (the test runner passes no flags). */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Bytes of a model with a 4 MiB weight, loaded; only a weak reference to the bytes leaves. */
async function loadWeighty(
  pool: SessionPool,
): Promise<{ session: PooledSession; bytes: WeakRef<Uint8Array> }> {
  const g = createGraph();
  const x = g.input('x', 'float32', ['m', 1024]);
  const w = g.param('w', 'float32', [1024, 1024], new Float32Array(1024 * 1024).fill(0.5));
  g.output('y', g.matmul(x, w));
  const model = toOnnxModel(g);
  return { session: await pool.load(model), bytes: new WeakRef(model) };
}

test('a loaded session does not keep the model bytes alive in the calling thread', async () => {
  // The bytes hold every weight: kept beside ORT's copy they doubled a served model's memory.
  const gc = collectGarbage();
  const pool = createSessionPool({ workers: 1 });
  try {
    const { session, bytes } = await loadWeighty(pool);
    // No deref() before the last: a deref'd target is kept until the job ends, past the gc() in it.
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(bytes.deref(), undefined, 'the model bytes were collected');
    const out = await session.run({ x: createTensor('float32', [1, 1024], new Float32Array(1024).fill(1)) });
    assert.equal((out['y']!.data as Float32Array)[0], 512, 'the session still runs');
  } finally {
    await pool.close();
  }
});

test('transferModel moves whole model bytes to the (last) worker and copies a view of a larger buffer', async () => {
  const pool = createSessionPool({ workers: 2 });
  try {
    const x = createTensor('float32', [1, 1024], new Float32Array(1024).fill(1));
    const big = (() => {
      const g = createGraph();
      const w = g.param('w', 'float32', [1024, 1024], new Float32Array(1024 * 1024).fill(0.5));
      g.output('y', g.matmul(g.input('x', 'float32', ['m', 1024]), w));
      return toOnnxModel(g);
    })();
    assert.equal(big.byteLength, big.buffer.byteLength, 'a big model owns its buffer');
    const s = await pool.load(big, { replicas: 2, transferModel: true });
    assert.equal(big.byteLength, 0, 'moved: the caller array is detached');
    assert.deepEqual([...s.workers].sort(), [0, 1], 'the copy went to the other worker first');
    // Two runs at once go to both copies (the least busy first).
    const outs = await Promise.all([0, 1].map(() => s.run({ x }, { copyInputs: true })));
    for (const out of outs) assert.equal((out['y']!.data as Float32Array)[0], 512);
    const small = matmulModel(2); // a few hundred bytes: a view of Node's shared Buffer pool
    assert.ok(small.byteLength < small.buffer.byteLength);
    const before = small.byteLength;
    await pool.load(small, { transferModel: true });
    assert.equal(small.byteLength, before, 'a view of a larger buffer is copied, never detached');
  } finally {
    await pool.close();
  }
});
