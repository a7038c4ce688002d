import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGraph } from '../src/index.js';
import { arrOf, assertClose, evalGraph, sessionOf, tensorOf } from './harness.js';
import * as R from './reference.js';

const r = R.rng(1);

test('binary ops broadcast over symbolic dims resolved at run time', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['batch', 'seq', 4]);
  const y = g.input('y', 'float32', [4]);
  const z = g.input('z', 'float32', ['seq', 1]);
  const pos = g.input('p', 'float32', ['batch', 'seq', 4]);
  g.output('add', g.add(x, y));
  g.output('sub', g.sub(z, x));
  g.output('mul', g.mul(x, z));
  g.output('div', g.div(x, g.add(g.abs(y), 0.5)));
  g.output('pow', g.pow(pos, y));
  g.output('scalar', g.sub(2, g.mul(x, 3)));
  const s = await sessionOf(g);
  for (const [b, t] of [
    [2, 3],
    [1, 5],
  ] as const) {
    const xa = R.randn([b, t, 4], r);
    const ya = R.randn([4], r);
    const za = R.randn([t, 1], r);
    const pa = R.map([R.randn([b, t, 4], r)], (v) => Math.abs(v) + 0.1);
    const out = await s.run({ x: tensorOf(xa), y: tensorOf(ya), z: tensorOf(za), p: tensorOf(pa) });
    assertClose(
      arrOf(out.add),
      R.map([xa, ya], (a, c) => a + c),
      1e-6,
      'add',
    );
    assertClose(
      arrOf(out.sub),
      R.map([za, xa], (a, c) => a - c),
      1e-6,
      'sub',
    );
    assertClose(
      arrOf(out.mul),
      R.map([xa, za], (a, c) => a * c),
      1e-6,
      'mul',
    );
    assertClose(
      arrOf(out.div),
      R.map([xa, ya], (a, c) => a / (Math.abs(c) + 0.5)),
      1e-5,
      'div',
    );
    assertClose(
      arrOf(out.pow),
      R.map([pa, ya], (a, c) => a ** c),
      1e-5,
      'pow',
    );
    assertClose(
      arrOf(out.scalar),
      R.map([xa], (a) => 2 - 3 * a),
      1e-6,
      'scalar',
    );
  }
  await s.release();
});

test('unary ops and activations match the reference', async () => {
  const fns: Record<string, (v: number) => number> = {
    neg: (v) => -v,
    abs: Math.abs,
    exp: Math.exp,
    log: (v) => Math.log(Math.abs(v) + 0.1),
    sqrt: (v) => Math.sqrt(Math.abs(v)),
    reciprocal: (v) => 1 / (Math.abs(v) + 0.1),
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    tanh: Math.tanh,
    relu: (v) => Math.max(0, v),
    sin: Math.sin,
    cos: Math.cos,
    silu: (v) => v / (1 + Math.exp(-v)),
    gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
    geluTanh: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  };
  const g = createGraph();
  const x = g.input('x', 'float32', ['n', 3]);
  const pos = g.add(g.abs(x), 0.1);
  g.output('neg', g.neg(x));
  g.output('abs', g.abs(x));
  g.output('exp', g.exp(x));
  g.output('log', g.log(pos));
  g.output('sqrt', g.sqrt(g.abs(x)));
  g.output('reciprocal', g.reciprocal(pos));
  g.output('sigmoid', g.sigmoid(x));
  g.output('tanh', g.tanh(x));
  g.output('relu', g.relu(x));
  g.output('sin', g.sin(x));
  g.output('cos', g.cos(x));
  g.output('silu', g.silu(x));
  g.output('gelu', g.gelu(x));
  g.output('geluTanh', g.gelu(x, 'tanh'));
  const xa = R.randn([7, 3], r, 3);
  const out = await evalGraph(g, { x: tensorOf(xa) });
  for (const [name, f] of Object.entries(fns)) assertClose(out[name], R.map([xa], f), 2e-5, name);
});

test('compare, where and cast', async () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['n', 4]);
  const y = g.input('y', 'float32', [1, 4]);
  const i = g.input('i', 'int64', ['n', 4]);
  const less = g.less(x, y);
  g.output('less', less);
  g.output('greater', g.greater(x, y));
  g.output('equal', g.equal(i, 2));
  g.output('where', g.where(less, x, g.neg(y)));
  g.output('whereNum', g.where(less, 1, y));
  g.output('castI', g.cast(x, 'int32'));
  g.output('castF', g.cast(i, 'float64'));
  const xa = R.randn([3, 4], r, 5);
  const ya = R.randn([1, 4], r, 5);
  const ia = R.build([3, 4], () => Math.floor(r() * 4));
  const out = await evalGraph(g, { x: tensorOf(xa), y: tensorOf(ya), i: tensorOf(ia, 'int64') });
  const b = (v: boolean) => (v ? 1 : 0);
  assertClose(
    out.less,
    R.map([xa, ya], (a, c) => b(a < c)),
    0,
    'less',
  );
  assertClose(
    out.greater,
    R.map([xa, ya], (a, c) => b(a > c)),
    0,
    'greater',
  );
  assertClose(
    out.equal,
    R.map([ia], (a) => b(a === 2)),
    0,
    'equal',
  );
  assertClose(
    out.where,
    R.map([xa, ya], (a, c) => (a < c ? a : -c)),
    1e-6,
    'where',
  );
  assertClose(
    out.whereNum,
    R.map([xa, ya], (a, c) => (a < c ? 1 : c)),
    1e-6,
    'whereNum',
  );
  assertClose(out.castI, R.map([xa], Math.trunc), 0, 'castI');
  assertClose(out.castF, ia, 0, 'castF');
});

test('float64 graphs run with optimization level basic', async () => {
  const g = createGraph();
  const x = g.input('x', 'float64', ['n', 5]);
  const y = g.softmax(g.silu(g.mul(x, x)));
  g.output('y', y);
  const xa = R.randn([4, 5], r);
  const out = await evalGraph(g, { x: tensorOf(xa, 'float64') }, 'basic');
  const ref = R.softmax(R.map([xa], (v) => (v * v) / (1 + Math.exp(-v * v))));
  assertClose(out.y, ref, 1e-12, 'f64');
});

test('shape inference rejects mismatched shapes and dtypes while building', () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['batch', 'seq', 4]);
  const y = g.input('y', 'float32', ['batch', 'past', 4]);
  const i = g.input('i', 'int64', [4]);
  assert.throws(() => g.add(x, y), /broadcast/);
  assert.throws(() => g.add(x, i), /dtype/);
  assert.throws(() => g.matmul(x, y), /inner dims/);
  assert.deepEqual(g.add(x, g.input('z', 'float32', ['seq', 1])).shape, ['batch', 'seq', 4]);
});

// Abramowitz–Stegun 7.1.26 is too coarse for 2e-5: use a series/continued form via erfc approximation.
function erf(x: number): number {
  // Numerical Recipes erfc (Chebyshev), |err| < 1.2e-7.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const ans =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - ans : ans - 1;
}
