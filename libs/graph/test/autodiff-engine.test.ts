import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Value } from '../src/index.js';
import { createGraph, createSession, createTensor, grad, registerOp, toOnnxModel } from '../src/index.js';
import { analyticGrads, gradcheck, makeData, weightedSum } from './gradcheck.js';

test('symbolic dims: broadcasting, run-time mean count and reshape, one graph for several sizes', async () => {
  const build = (g: ReturnType<typeof createGraph>, dt: 'float32' | 'float64') => {
    const x = g.input('x', dt, ['batch', 'seq', 4]);
    const s = g.input('s', dt, [1, 'seq', 1]);
    const b = g.param('b', dt, [4]);
    const h = g.mul(g.tanh(g.add(x, b)), s); // [batch, seq, 4]
    const flat = g.reshape(h, [-1, 4]); // ['batch*seq', 4]
    const m = g.mean(flat, 0, true); // count = batch·seq at run time
    const last = g.slice(h, { axis: 1, start: 'seq', end: 'seq' }); // empty: exercises a symbolic Slice VJP
    return g.add(weightedSum(g, g.mul(flat, m)), g.sum(last, [0, 1, 2]));
  };
  for (const dims of [
    { batch: 2, seq: 3 },
    { batch: 3, seq: 1 },
  ]) {
    const r = await gradcheck({ build, dims, wrt: ['x', 's', 'b'] });
    assert.equal(r.tensors.length, 3);
  }
});

test('a param used twice (tied embedding: Gather + head MatMul) accumulates both uses', async () => {
  const ids = createTensor('int64', [2, 3], BigInt64Array.from([1n, 2n, 1n, 0n, 3n, 3n]));
  const spec = {
    build(g: ReturnType<typeof createGraph>, dt: 'float32' | 'float64') {
      const e = g.param('embed', dt, [5, 4]);
      const h = g.gather(e, g.input('ids', 'int64', [2, 3]), 0);
      return weightedSum(g, g.logSoftmax(g.matmul(g.tanh(h), g.transpose(e, [1, 0]))));
    },
    feeds: { ids },
  };
  const r = await gradcheck({ ...spec, entries: 20 });
  assert.equal(r.tensors[0]?.checked, 20);
  // Row 4 is never gathered: its gradient comes from the head alone and must still be non-zero.
  const { grads } = await analyticGrads(spec, makeData(spec), 'float64');
  const row4 = grads.get('embed')?.slice(16, 20) ?? new Float64Array();
  assert.ok(row4.some((v) => Math.abs(v) > 1e-6));
});

test('stopGradient gives zero gradient (analytic d/da Σ a·sg(a) = a, not 2a)', async () => {
  const spec = {
    build(g: ReturnType<typeof createGraph>, dt: 'float32' | 'float64') {
      const a = g.param('a', dt, [6]);
      return g.sum(g.mul(a, g.stopGradient(a)), 0);
    },
  };
  const data = makeData(spec);
  const { grads } = await analyticGrads(spec, data, 'float64');
  const a = data.get('a')?.data as Float64Array;
  assert.deepEqual([...(grads.get('a') ?? [])], [...a]);
});

test('outputs: loss, extra outputs, grad.<param>; an unused param gets zeros; non-scalar loss is summed', async () => {
  const g = createGraph();
  const a = g.param('a', 'float32', [2, 3]);
  const unused = g.param('unused', 'float32', [4]);
  const y = g.mul(a, a); // non-scalar "loss": gradient of Σ y
  assert.ok(unused);
  const res = grad(g, y, 'params', { extraOutputs: { doubled: g.mul(a, 2) } });
  assert.equal(res.gradOutputNames.get('a'), 'grad.a');
  const s = await createSession(toOnnxModel(g, { params: 'inputs' }));
  const av = Float32Array.from([1, -2, 3, 0.5, 0, 4]);
  const out = await s.run({
    a: createTensor('float32', [2, 3], av),
    unused: createTensor('float32', [4], new Float32Array(4).fill(7)),
  });
  await s.release();
  assert.deepEqual(Object.keys(out).sort(), ['doubled', 'grad.a', 'grad.unused', 'loss']);
  assert.deepEqual(
    [...(out['grad.a']?.data ?? [])],
    [...av].map((v) => 2 * v),
  );
  assert.deepEqual(out['grad.unused']?.dims, [4]);
  assert.deepEqual([...(out['grad.unused']?.data ?? [])], [0, 0, 0, 0]);
});

test('erf VJP (float32 only on ORT CPU) matches 2/√π·exp(−x²)', async () => {
  const g = createGraph();
  const x = g.param('x', 'float32', [5]);
  grad(g, g.sum(g.erf(x), 0), [x]);
  const s = await createSession(toOnnxModel(g, { params: 'inputs' }));
  const xv = Float32Array.from([-2, -0.5, 0, 0.3, 1.7]);
  const out = await s.run({ x: createTensor('float32', [5], xv) });
  await s.release();
  const got = out['grad.x']?.data as Float32Array;
  xv.forEach((v, i) => {
    const want = (2 / Math.sqrt(Math.PI)) * Math.exp(-v * v);
    assert.ok(Math.abs((got[i] as number) - want) < 1e-6, `erf'(${v}): ${got[i]} vs ${want}`);
  });
});

test('errors: integer wrt, op without a VJP rule', () => {
  const g = createGraph();
  const ids = g.input('ids', 'int64', [3]);
  const a = g.param('a', 'float32', [3]);
  assert.throws(() => grad(g, g.sum(a, 0), [ids]), /cannot differentiate/);
  registerOp({ name: 'TestNoVjp', onnxOp: 'Identity', infer: (ins) => [ins[0] as Value] });
  const h = createGraph();
  const b = h.param('b', 'float32', [3]);
  assert.throws(() => grad(h, h.sum(h.node1('TestNoVjp', [b]), 0), 'params'), /no VJP rule for op TestNoVjp/);
});
