import { test } from 'node:test';
import { createGraph } from '../src/index.js';
import { arrOf, assertClose, evalGraph, sessionOf, tensorOf } from './harness.js';
import * as R from './reference.js';

const r = R.rng(2);

test('matmul: 2-D, 3-D x 2-D with a symbolic batch, broadcast 4-D batches', async () => {
  const g = createGraph();
  const a = g.input('a', 'float32', ['batch', 'seq', 6]);
  const w = g.param(
    'w',
    'float32',
    [6, 5],
    Float32Array.from({ length: 30 }, () => r() - 0.5),
  );
  const q = g.input('q', 'float32', [2, 1, 3, 4]);
  const k = g.input('k', 'float32', [1, 3, 4, 5]);
  const m = g.input('m', 'float32', [3, 4]);
  g.output('aw', g.matmul(a, w));
  g.output('qk', g.matmul(q, k));
  g.output('mm', g.matmul(m, g.transposeLast2(m)));
  const wa = { dims: [6, 5], data: Array.from(g.params.get('w')?.data as Float32Array) };
  const aa = R.randn([2, 3, 6], r);
  const qa = R.randn([2, 1, 3, 4], r);
  const ka = R.randn([1, 3, 4, 5], r);
  const ma = R.randn([3, 4], r);
  const out = await evalGraph(g, { a: tensorOf(aa), q: tensorOf(qa), k: tensorOf(ka), m: tensorOf(ma) });
  assertClose(out.aw, R.matmul(aa, wa), 1e-5, 'aw');
  assertClose(out.qk, R.matmul(qa, ka), 1e-5, 'qk');
  assertClose(out.mm, R.matmul(ma, R.transpose(ma, [1, 0])), 1e-5, 'mm');
});

test('reductions (axes as inputs at opset 18), keepDims both ways, logSumExp', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['batch', 3, 4]);
  g.output('sumLast', g.sum(x, -1));
  g.output('sumKeep', g.sum(x, [0, 2], true));
  g.output('mean', g.mean(x, 1, true));
  g.output('max', g.max(x, [1, 2]));
  g.output('lse', g.logSumExp(x, -1));
  g.output('lseKeep', g.logSumExp(x, 1, true));
  const s = await sessionOf(g);
  for (const b of [2, 5]) {
    const xa = R.randn([b, 3, 4], r, 4);
    const out = await s.run({ x: tensorOf(xa) });
    assertClose(arrOf(out.sumLast), R.reduce(xa, [-1], false, 'sum'), 1e-5, 'sumLast');
    assertClose(arrOf(out.sumKeep), R.reduce(xa, [0, 2], true, 'sum'), 1e-5, 'sumKeep');
    assertClose(arrOf(out.mean), R.reduce(xa, [1], true, 'mean'), 1e-5, 'mean');
    assertClose(arrOf(out.max), R.reduce(xa, [1, 2], false, 'max'), 1e-6, 'max');
    const lse = (axis: number, keep: boolean) => {
      const m = R.reduce(xa, [axis], true, 'max');
      const e = R.map([xa, m], (v, mm) => Math.exp(v - mm));
      const s1 = R.reduce(e, [axis], true, 'sum');
      const res = R.map([s1, m], (v, mm) => Math.log(v) + mm);
      return keep ? res : { dims: res.dims.filter((_, i) => i !== (axis + 3) % 3), data: res.data };
    };
    assertClose(arrOf(out.lse), lse(2, false), 1e-5, 'lse');
    assertClose(arrOf(out.lseKeep), lse(1, true), 1e-5, 'lseKeep');
  }
  await s.release();
});

test('softmax and logSoftmax on the last and a middle axis', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['n', 3, 5]);
  g.output('sm', g.softmax(x));
  g.output('lsm', g.logSoftmax(x, -1));
  g.output('sm1', g.softmax(x, 1));
  const xa = R.randn([2, 3, 5], r, 3);
  const out = await evalGraph(g, { x: tensorOf(xa) });
  assertClose(out.sm, R.softmax(xa), 1e-5, 'sm');
  assertClose(out.lsm, R.softmax(xa, true), 1e-5, 'lsm');
  const t = R.transpose(R.softmax(R.transpose(xa, [0, 2, 1])), [0, 2, 1]);
  assertClose(out.sm1, t, 1e-5, 'sm1');
});

test('rmsNorm and layerNorm composites', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['batch', 'seq', 8]);
  const w = g.input('w', 'float32', [8]);
  const b = g.input('b', 'float32', [8]);
  g.output('rms', g.rmsNorm(x, w, 1e-5));
  g.output('ln', g.layerNorm(x, w, b, 1e-5));
  g.output('rmsF', g.rmsNorm(x, w, 1e-5, { fusable: true }));
  g.output('lnF', g.layerNorm(x, w, b, 1e-5, { fusable: true }));
  const xa = R.randn([2, 3, 8], r, 2);
  const wa = R.randn([8], r);
  const ba = R.randn([8], r);
  const out = await evalGraph(g, { x: tensorOf(xa), w: tensorOf(wa), b: tensorOf(ba) });
  const ms = R.reduce(
    R.map([xa], (v) => v * v),
    [-1],
    true,
    'mean',
  );
  const rmsRef = R.map([xa, ms, wa], (v, m, ww) => (v / Math.sqrt(m + 1e-5)) * ww);
  assertClose(out.rms, rmsRef, 1e-5, 'rms');
  assertClose(out.rmsF, rmsRef, 1e-5, 'rms fusable');
  const mu = R.reduce(xa, [-1], true, 'mean');
  const c = R.map([xa, mu], (v, m) => v - m);
  const va = R.reduce(
    R.map([c], (v) => v * v),
    [-1],
    true,
    'mean',
  );
  const lnRef = R.map([c, va, wa, ba], (v, vv, ww, bb) => (v / Math.sqrt(vv + 1e-5)) * ww + bb);
  assertClose(out.ln, lnRef, 1e-5, 'ln');
  assertClose(out.lnF, lnRef, 1e-5, 'ln fusable');
});
