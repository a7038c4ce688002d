import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGraph } from '../src/index.js';
import { arrOf, assertClose, evalGraph, sessionOf, tensorOf } from './harness.js';
import * as R from './reference.js';

const r = R.rng(3);

test('reshape (symbolic, -1, merged dims), transpose, squeeze, unsqueeze', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['batch', 'seq', 6]);
  const heads = g.reshape(x, ['batch', 'seq', 2, 3]);
  assert.deepEqual(heads.shape, ['batch', 'seq', 2, 3]);
  const flat = g.reshape(x, [-1, 6]);
  assert.deepEqual(flat.shape, ['batch*seq', 6]);
  const back = g.reshape(flat, ['batch', 'seq', 6]);
  const merged = g.reshape(g.transpose(heads, [0, 2, 1, 3]), ['batch', 2, -1]);
  assert.deepEqual(merged.shape, ['batch', 2, '3*seq']);
  g.output('t', g.transpose(heads, [0, 2, 1, 3]));
  g.output('flat', flat);
  g.output('back', back);
  g.output('merged', merged);
  g.output('unsq', g.unsqueeze(x, [0, -1]));
  g.output('sq', g.squeeze(g.unsqueeze(x, 1), 1));
  const s = await sessionOf(g);
  for (const [b, t] of [
    [2, 3],
    [3, 1],
  ] as const) {
    const xa = R.randn([b, t, 6], r);
    const out = await s.run({ x: tensorOf(xa) });
    const h = { dims: [b, t, 2, 3], data: xa.data };
    const tr = R.transpose(h, [0, 2, 1, 3]);
    assertClose(arrOf(out.t), tr, 0, 't');
    assertClose(arrOf(out.flat), { dims: [b * t, 6], data: xa.data }, 0, 'flat');
    assertClose(arrOf(out.back), xa, 0, 'back');
    assertClose(arrOf(out.merged), { dims: [b, 2, 3 * t], data: tr.data }, 0, 'merged');
    assertClose(arrOf(out.unsq), { dims: [1, b, t, 6, 1], data: xa.data }, 0, 'unsq');
    assertClose(arrOf(out.sq), xa, 0, 'sq');
  }
  await s.release();
});

test('slice (numeric, negative, symbolic end, step), concat, split', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['seq', 6]);
  const y = g.input('y', 'float32', ['past', 6]);
  const table = g.input('table', 'float32', [10, 6]);
  const cat = g.concat([y, x], 0);
  assert.deepEqual(cat.shape, ['past+seq', 6]);
  g.output('cat', cat);
  g.output('cols', g.slice(x, { axis: 1, start: 1, end: 4 }));
  g.output('neg', g.slice(x, { axis: -1, start: -2 }));
  g.output('step', g.slice(x, { axis: 1, start: 0, step: 2 }));
  const head = g.slice(table, { axis: 0, end: 'seq' });
  assert.deepEqual(head.shape, ['seq', 6]);
  g.output('head', g.add(head, x)); // symbolic 'seq' lines up with x's
  const parts = g.split(x, [2, 4], -1);
  assert.deepEqual(
    parts.map((p) => p.shape),
    [
      ['seq', 2],
      ['seq', 4],
    ],
  );
  g.output('p0', parts[0]!);
  g.output('p1', parts[1]!);
  const xa = R.randn([3, 6], r);
  const ya = R.randn([2, 6], r);
  const ta = R.randn([10, 6], r);
  const out = await evalGraph(g, { x: tensorOf(xa), y: tensorOf(ya), table: tensorOf(ta) });
  assertClose(out.cat, { dims: [5, 6], data: [...ya.data, ...xa.data] }, 0, 'cat');
  const cols = (x0: number, x1: number, step = 1) =>
    R.build([3, Math.ceil((x1 - x0) / step)], ([i, j]) => R.get(xa, [i!, x0 + j! * step]));
  assertClose(out.cols, cols(1, 4), 0, 'cols');
  assertClose(out.neg, cols(4, 6), 0, 'neg');
  assertClose(out.step, cols(0, 6, 2), 0, 'step');
  assertClose(
    out.head,
    R.build([3, 6], ([i, j]) => R.get(ta, [i!, j!]) + R.get(xa, [i!, j!])),
    1e-6,
    'head',
  );
  assertClose(out.p0, cols(0, 2), 0, 'p0');
  assertClose(out.p1, cols(2, 6), 0, 'p1');
});

test('gather (embedding axis 0, axis -1), gatherElements', async () => {
  const g = createGraph();
  const emb = g.input('emb', 'float32', [7, 4]);
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const cols = g.input('cols', 'int32', [2]);
  const tgt = g.input('tgt', 'int64', ['batch', 'seq', 1]);
  const e = g.gather(emb, ids, 0);
  assert.deepEqual(e.shape, ['batch', 'seq', 4]);
  g.output('e', e);
  g.output('c', g.gather(emb, cols, -1));
  g.output('ge', g.gatherElements(e, tgt, -1));
  const ea = R.randn([7, 4], r);
  const ia = R.build([2, 3], () => Math.floor(r() * 7));
  const ca = { dims: [2], data: [3, 0] };
  const tg = R.build([2, 3, 1], () => Math.floor(r() * 4));
  const out = await evalGraph(g, {
    emb: tensorOf(ea),
    ids: tensorOf(ia, 'int64'),
    cols: tensorOf(ca, 'int32'),
    tgt: tensorOf(tg, 'int64'),
  });
  const ref = R.build([2, 3, 4], ([b, t, d]) => R.get(ea, [R.get(ia, [b!, t!]), d!]));
  assertClose(out.e, ref, 0, 'e');
  assertClose(
    out.c,
    R.build([7, 2], ([v, k]) => R.get(ea, [v!, ca.data[k!]!])),
    0,
    'c',
  );
  assertClose(
    out.ge,
    R.build([2, 3, 1], ([b, t]) => R.get(ref, [b!, t!, R.get(tg, [b!, t!, 0])])),
    0,
    'ge',
  );
});

test('expand, shape, arange/range, trilu', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['batch', 'seq']);
  const v = g.input('v', 'float32', [1, 'seq']);
  const ex = g.expand(v, ['batch', 'seq']);
  assert.deepEqual(ex.shape, ['batch', 'seq']);
  g.output('ex', g.add(ex, x));
  g.output('ex3', g.expand(v, [2, 'batch', 'seq']));
  g.output('shape', g.shape(x));
  g.output('ar', g.arange('seq'));
  g.output('arFrom', g.arange('seq', { from: 'batch', dtype: 'float32' }));
  const sq = g.input('sq', 'float32', [4, 4]);
  g.output('lower', g.trilu(sq));
  g.output('upper1', g.trilu(sq, { upper: true, k: 1 }));
  const xa = R.randn([3, 5], r);
  const va = R.randn([1, 5], r);
  const sa = R.randn([4, 4], r);
  const out = await evalGraph(g, { x: tensorOf(xa), v: tensorOf(va), sq: tensorOf(sa) });
  assertClose(
    out.ex,
    R.map([xa, va], (a, b) => a + b),
    1e-6,
    'ex',
  );
  assertClose(
    out.ex3,
    R.build([2, 3, 5], ([, , j]) => va.data[j!]!),
    0,
    'ex3',
  );
  assertClose(out.shape, { dims: [2], data: [3, 5] }, 0, 'shape');
  assertClose(out.ar, { dims: [5], data: [0, 1, 2, 3, 4] }, 0, 'ar');
  assertClose(out.arFrom, { dims: [5], data: [3, 4, 5, 6, 7] }, 0, 'arFrom');
  assertClose(
    out.lower,
    R.build([4, 4], ([i, j]) => (j! <= i! ? R.get(sa, [i!, j!]) : 0)),
    0,
    'lower',
  );
  assertClose(
    out.upper1,
    R.build([4, 4], ([i, j]) => (j! >= i! + 1 ? R.get(sa, [i!, j!]) : 0)),
    0,
    'upper1',
  );
});
