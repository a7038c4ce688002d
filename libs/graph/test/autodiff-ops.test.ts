import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphBuilder, Value } from '../src/index.js';
import { createTensor } from '../src/index.js';
import { type GradcheckSpec, gradcheck, weightedSum } from './gradcheck.js';

// One finite-difference check per op VJP (float64, h = 1e-6, rtol 1e-5 with absFloor 1e-3: see gradcheck.ts).

type Dt = 'float32' | 'float64';

interface Case {
  name: string;
  build(g: GraphBuilder, dt: Dt): Value;
  spec?: Omit<GradcheckSpec, 'build'>;
}

const pos: readonly [number, number] = [0.5, 2];

function ids(dims: number[], values: number[]) {
  return createTensor('int64', dims, BigInt64Array.from(values.map(BigInt)));
}

const cases: Case[] = [
  // Binary ops with numpy broadcasting (gradients are summed back to each input's shape).
  {
    name: 'add [2,3,4]+[4]',
    build: (g, dt) => weightedSum(g, g.add(g.param('a', dt, [2, 3, 4]), g.param('b', dt, [4]))),
  },
  {
    name: 'add [2,3,4]+[3,1]',
    build: (g, dt) => weightedSum(g, g.add(g.param('a', dt, [2, 3, 4]), g.param('b', dt, [3, 1]))),
  },
  {
    name: 'sub [2,3]-[1,3] and number-sub',
    build: (g, dt) => weightedSum(g, g.sub(1, g.sub(g.param('a', dt, [2, 3]), g.param('b', dt, [1, 3])))),
  },
  {
    name: 'mul [2,1,4]*[3,1]',
    build: (g, dt) => weightedSum(g, g.mul(g.param('a', dt, [2, 1, 4]), g.param('b', dt, [3, 1]))),
  },
  {
    name: 'mul x*x (one value used twice)',
    build: (g, dt) => {
      const a = g.param('a', dt, [5]);
      return weightedSum(g, g.mul(a, a));
    },
  },
  {
    name: 'div [2,3]/[3]',
    build: (g, dt) => weightedSum(g, g.div(g.param('a', dt, [2, 3]), g.param('b', dt, [3]))),
    spec: { ranges: { b: pos } },
  },
  {
    name: 'div scalar-param denominator',
    build: (g, dt) => weightedSum(g, g.div(g.param('a', dt, [2, 3]), g.param('b', dt, []))),
    spec: { ranges: { b: pos } },
  },
  { name: 'pow by 2', build: (g, dt) => weightedSum(g, g.pow(g.param('a', dt, [2, 3]), 2)) },
  { name: 'pow by 3', build: (g, dt) => weightedSum(g, g.pow(g.param('a', dt, [2, 3]), 3)) },
  {
    name: 'pow by -0.5',
    build: (g, dt) => weightedSum(g, g.pow(g.param('a', dt, [2, 3]), -0.5)),
    spec: { ranges: { a: pos } },
  },
  {
    name: 'pow by a param exponent',
    build: (g, dt) => weightedSum(g, g.pow(g.param('a', dt, [2, 3]), g.param('p', dt, [3]))),
    spec: { ranges: { a: pos } },
  },
  // Unary ops.
  { name: 'neg', build: (g, dt) => weightedSum(g, g.neg(g.param('a', dt, [2, 3]))) },
  { name: 'identity', build: (g, dt) => weightedSum(g, g.identity(g.param('a', dt, [2, 3]))) },
  { name: 'abs', build: (g, dt) => weightedSum(g, g.abs(g.param('a', dt, [2, 3]))) },
  { name: 'exp', build: (g, dt) => weightedSum(g, g.exp(g.param('a', dt, [2, 3]))) },
  {
    name: 'log',
    build: (g, dt) => weightedSum(g, g.log(g.param('a', dt, [2, 3]))),
    spec: { ranges: { a: pos } },
  },
  {
    name: 'sqrt',
    build: (g, dt) => weightedSum(g, g.sqrt(g.param('a', dt, [2, 3]))),
    spec: { ranges: { a: pos } },
  },
  {
    name: 'reciprocal',
    build: (g, dt) => weightedSum(g, g.reciprocal(g.param('a', dt, [2, 3]))),
    spec: { ranges: { a: pos } },
  },
  { name: 'sigmoid', build: (g, dt) => weightedSum(g, g.sigmoid(g.param('a', dt, [2, 3]))) },
  { name: 'tanh', build: (g, dt) => weightedSum(g, g.tanh(g.param('a', dt, [2, 3]))) },
  { name: 'relu', build: (g, dt) => weightedSum(g, g.relu(g.param('a', dt, [2, 3]))) },
  { name: 'sin', build: (g, dt) => weightedSum(g, g.sin(g.param('a', dt, [2, 3]))) },
  { name: 'cos', build: (g, dt) => weightedSum(g, g.cos(g.param('a', dt, [2, 3]))) },
  {
    name: 'where with broadcasting (condition from a comparison: no gradient)',
    build: (g, dt) => {
      const a = g.param('a', dt, [2, 3]);
      const b = g.param('b', dt, [3]);
      return weightedSum(g, g.where(g.greater(a, 0), a, b));
    },
  },
  {
    name: 'cast to int64 and back stops the gradient',
    build: (g, dt) => {
      const a = g.param('a', dt, [2, 3]);
      return weightedSum(g, g.mul(a, g.cast(g.cast(g.mul(a, 3), 'int64'), dt)));
    },
  },
  { name: 'softmax axis -1', build: (g, dt) => weightedSum(g, g.softmax(g.param('a', dt, [2, 3, 4]))) },
  { name: 'softmax axis 1', build: (g, dt) => weightedSum(g, g.softmax(g.param('a', dt, [2, 3, 4]), 1)) },
  { name: 'logSoftmax axis -1', build: (g, dt) => weightedSum(g, g.logSoftmax(g.param('a', dt, [2, 3, 4]))) },
  // MatMul: plain, activation × weight, batched, broadcast batch, GQA-style 5-D with a broadcast group axis.
  {
    name: 'matmul 2-D',
    build: (g, dt) => weightedSum(g, g.matmul(g.param('a', dt, [3, 4]), g.param('b', dt, [4, 2]))),
  },
  {
    name: 'matmul 3-D x 2-D',
    build: (g, dt) => weightedSum(g, g.matmul(g.param('a', dt, [2, 3, 4]), g.param('b', dt, [4, 5]))),
  },
  {
    name: 'matmul 2-D x 3-D',
    build: (g, dt) => weightedSum(g, g.matmul(g.param('a', dt, [3, 4]), g.param('b', dt, [2, 4, 5]))),
  },
  {
    name: 'matmul 4-D batched',
    build: (g, dt) =>
      weightedSum(g, g.matmul(g.param('a', dt, [2, 2, 3, 4]), g.param('b', dt, [2, 2, 4, 2]))),
  },
  {
    name: 'matmul broadcast batch [2,1,3,4]x[3,4,2]',
    build: (g, dt) => weightedSum(g, g.matmul(g.param('a', dt, [2, 1, 3, 4]), g.param('b', dt, [3, 4, 2]))),
  },
  {
    name: 'matmul 5-D GQA [1,2,2,3,4]x[1,2,1,4,3]',
    build: (g, dt) =>
      weightedSum(g, g.matmul(g.param('a', dt, [1, 2, 2, 3, 4]), g.param('b', dt, [1, 2, 1, 4, 3]))),
  },
  // Reductions.
  {
    name: 'sum axes [0,2] keepDims',
    build: (g, dt) => weightedSum(g, g.sum(g.param('a', dt, [2, 3, 4]), [0, 2], true)),
  },
  { name: 'sum axis -1', build: (g, dt) => weightedSum(g, g.sum(g.param('a', dt, [2, 3, 4]), -1)) },
  { name: 'mean axis 1', build: (g, dt) => weightedSum(g, g.mean(g.param('a', dt, [2, 3, 4]), 1)) },
  {
    name: 'mean axes [1,2] keepDims',
    build: (g, dt) => weightedSum(g, g.mean(g.param('a', dt, [2, 3, 4]), [1, 2], true)),
  },
  { name: 'max axis -1', build: (g, dt) => weightedSum(g, g.max(g.param('a', dt, [2, 3, 4]), -1)) },
  {
    name: 'max axes [0,1] keepDims',
    build: (g, dt) => weightedSum(g, g.max(g.param('a', dt, [2, 3, 4]), [0, 1], true)),
  },
  // Layout ops.
  { name: 'reshape', build: (g, dt) => weightedSum(g, g.reshape(g.param('a', dt, [2, 3, 4]), [4, -1])) },
  {
    name: 'transpose [2,0,1]',
    build: (g, dt) => weightedSum(g, g.transpose(g.param('a', dt, [2, 3, 4]), [2, 0, 1])),
  },
  {
    name: 'slice axis 1 [1:3]',
    build: (g, dt) => weightedSum(g, g.slice(g.param('a', dt, [2, 4, 3]), { axis: 1, start: 1, end: 3 })),
  },
  {
    name: 'slice axis -1 negative start',
    build: (g, dt) => weightedSum(g, g.slice(g.param('a', dt, [2, 5]), { axis: -1, start: -2 })),
  },
  {
    name: 'slice step -2',
    build: (g, dt) => weightedSum(g, g.slice(g.param('a', dt, [6, 2]), { axis: 0, start: 5, step: -2 })),
  },
  {
    name: 'concat three inputs axis 1',
    build: (g, dt) =>
      weightedSum(
        g,
        g.concat([g.param('a', dt, [2, 1]), g.param('b', dt, [2, 3]), g.param('c', dt, [2, 2])], 1),
      ),
  },
  {
    name: 'split, only one output used (others get zero gradient)',
    build: (g, dt) => weightedSum(g, g.split(g.param('a', dt, [2, 5]), [2, 3], 1)[1] as Value),
  },
  {
    name: 'split, both outputs used',
    build: (g, dt) => {
      const [x, y] = g.split(g.param('a', dt, [4, 3]), [1, 3], 0) as [Value, Value];
      return weightedSum(g, g.mul(x, y));
    },
  },
  { name: 'squeeze', build: (g, dt) => weightedSum(g, g.squeeze(g.param('a', dt, [2, 1, 3]), 1)) },
  {
    name: 'unsqueeze [0,-1]',
    build: (g, dt) => weightedSum(g, g.unsqueeze(g.param('a', dt, [2, 3]), [0, -1])),
  },
  {
    name: 'expand [3,1] -> [2,3,4]',
    build: (g, dt) => weightedSum(g, g.expand(g.param('a', dt, [3, 1]), [2, 3, 4])),
  },
  {
    name: 'trilu upper k=1',
    build: (g, dt) => weightedSum(g, g.trilu(g.param('a', dt, [3, 4]), { upper: true, k: 1 })),
  },
  // Gathers: scatter-add gradients, duplicate indices accumulate.
  {
    name: 'gather axis 0 (embedding, duplicate ids)',
    build: (g, dt) => weightedSum(g, g.gather(g.param('e', dt, [5, 3]), g.input('ids', 'int64', [2, 3]), 0)),
    spec: { feeds: { ids: ids([2, 3], [1, 4, 1, 0, 1, 4]) } },
  },
  {
    name: 'gather axis 1 with negative index',
    build: (g, dt) => weightedSum(g, g.gather(g.param('e', dt, [2, 4, 3]), g.input('ids', 'int64', [3]), 1)),
    spec: { feeds: { ids: ids([3], [2, -1, 2]) } },
  },
  {
    name: 'gatherElements axis -1 (duplicates)',
    build: (g, dt) =>
      weightedSum(g, g.gatherElements(g.param('a', dt, [2, 4]), g.input('ids', 'int64', [2, 3]), -1)),
    spec: { feeds: { ids: ids([2, 3], [3, 3, 0, 1, 2, 1]) } },
  },
  // Composites from nn.ts (differentiated through their primitives).
  { name: 'silu', build: (g, dt) => weightedSum(g, g.silu(g.param('a', dt, [2, 3]))) },
  { name: 'gelu tanh', build: (g, dt) => weightedSum(g, g.gelu(g.param('a', dt, [2, 3]), 'tanh')) },
  {
    name: 'logSumExp (stop-gradient max shift is exact)',
    build: (g, dt) => weightedSum(g, g.logSumExp(g.param('a', dt, [2, 5]), -1)),
  },
  {
    name: 'rmsNorm',
    build: (g, dt) => weightedSum(g, g.rmsNorm(g.param('x', dt, [2, 3, 4]), g.param('w', dt, [4]), 1e-5)),
  },
  {
    name: 'layerNorm',
    build: (g, dt) =>
      weightedSum(
        g,
        g.layerNorm(g.param('x', dt, [2, 3, 4]), g.param('w', dt, [4]), g.param('b', dt, [4]), 1e-5),
      ),
  },
  {
    name: 'attention with causal + padding bias',
    build: (g, dt) => {
      const mask = g.input('mask', 'int64', [2, 3]);
      const bias = g.attentionBias({ queryLen: 3, keyLen: 3, paddingMask: mask, dtype: dt });
      const [q, k, v] = ['q', 'k', 'v'].map((n) => g.param(n, dt, [2, 2, 3, 4])) as [Value, Value, Value];
      return weightedSum(g, g.attention(q, k, v, bias));
    },
    spec: { feeds: { mask: ids([2, 3], [1, 1, 1, 1, 1, 0]) } },
  },
];

for (const c of cases) {
  test(`vjp: ${c.name}`, async () => {
    const r = await gradcheck({ ...c.spec, build: c.build });
    for (const t of r.tensors) assert.ok(t.checked > 0, `${t.name}: nothing checked`);
    console.log(
      `${c.name}: worst rel ${r.worstRel.toExponential(2)}, worst abs ${r.worstAbs.toExponential(2)}`,
    );
  });
}
