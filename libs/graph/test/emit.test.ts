import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createGraph,
  createSession,
  createTensor,
  decodeOnnxModel,
  registerOp,
  toOnnxModel,
} from '../src/index.js';

function tinyModel() {
  const g = createGraph();
  const x = g.input('x', 'float32', ['batch', 'seq', 3]);
  const w = g.param('w', 'float32', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const a = g.scalar(0.5);
  const b = g.scalar(0.5);
  assert.equal(a, b, 'equal constants are deduplicated');
  g.output('y', g.mul(g.matmul(x, w), a));
  return g;
}

test('emitted model reloads with dim_params, opset 18, IR 8 and named outputs', async () => {
  const bytes = toOnnxModel(tinyModel(), { name: 'tiny', docString: 'doc' });
  const m = decodeOnnxModel(bytes);
  assert.equal(Number(m.irVersion), 8);
  assert.deepEqual(
    m.opsetImport.map((o) => [o.domain, Number(o.version)]),
    [['', 18]],
  );
  assert.equal(m.graph?.name, 'tiny');
  assert.equal(m.docString, 'doc');
  const dims = m.graph!.input![0]?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
  assert.deepEqual(dims, ['batch', 'seq', 3]);
  const outDims = m.graph!.output![0]?.type?.tensorType?.shape?.dim?.map(
    (d) => d.dimParam || Number(d.dimValue),
  );
  assert.deepEqual(outDims, ['batch', 'seq', 2]);
  assert.deepEqual(m.graph!.initializer!.map((t) => t.name).sort(), ['const_0', 'w'].sort());

  const dir = await mkdtemp(join(tmpdir(), 'graph-emit-'));
  try {
    const path = join(dir, 'tiny.onnx');
    await writeFile(path, bytes);
    const s = await createSession(path);
    assert.deepEqual(s.inputNames, ['x']);
    const out = await s.run({ x: createTensor('float32', [1, 1, 3], Float32Array.from([1, 1, 1])) });
    assert.deepEqual(Array.from(out.y?.data as Float32Array), [4.5, 6]);
    await s.release();
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("params: 'inputs' turns weights into graph inputs fed per run", async () => {
  const g = tinyModel();
  const table = g.initializer('table', Float32Array.from([1, 2]), [2]);
  g.output('t', g.mul(table, 2));
  const m = decodeOnnxModel(toOnnxModel(g, { params: 'inputs' }));
  assert.deepEqual(
    m.graph!.input!.map((i) => i.name),
    ['x', 'w'],
  );
  const inits = m.graph!.initializer!.map((t) => t.name);
  assert.ok(inits.includes('table') && !inits.includes('w'), inits.join(' '));
  const s = await createSession(toOnnxModel(g, { params: 'inputs' }));
  const out = await s.run({
    x: createTensor('float32', [1, 1, 3], Float32Array.from([1, 1, 1])),
    w: createTensor('float32', [3, 2], Float32Array.from([1, 0, 0, 1, 1, 1])),
  });
  assert.deepEqual(Array.from(out.y?.data as Float32Array), [1, 1]);
  assert.deepEqual(Array.from(out.t?.data as Float32Array), [2, 4]);
  await s.release();
});

test('a param without data cannot be emitted as an initializer', () => {
  const g = createGraph();
  const x = g.input('x', 'float32', [2]);
  g.output('y', g.add(x, g.param('b', 'float32', [2])));
  assert.throws(() => toOnnxModel(g), /param b has no data/);
  assert.ok(toOnnxModel(g, { params: 'inputs' }).length > 0);
});

test('outputs that alias an input get an Identity and keep their names', async () => {
  const g = createGraph();
  const x = g.input('x', 'int64', ['n']);
  g.output('same', x);
  g.output('n', g.shape(x));
  const s = await createSession(toOnnxModel(g));
  const out = await s.run({ x: createTensor('int64', [3], BigInt64Array.from([7n, 8n, 9n])) });
  assert.deepEqual(Array.from(out.same?.data as BigInt64Array), [7n, 8n, 9n]);
  assert.deepEqual(Array.from(out.n?.data as BigInt64Array), [3n]);
  await s.release();
});

test('a registered com.microsoft op adds the contrib domain import and runs (FusedMatMul, float alpha)', async () => {
  registerOp({
    name: 'MsFusedMatMulTransB',
    onnxOp: 'FusedMatMul',
    domain: 'com.microsoft',
    attrTypes: { alpha: 'float', transB: 'int' },
    infer: ([a, b]) => [{ dtype: a!.dtype, shape: [a!.shape[0]!, b!.shape[0]!] }],
  });
  const g = createGraph();
  const a = g.input('a', 'float32', ['m', 2]);
  const b = g.input('b', 'float32', [3, 2]);
  g.output('c', g.node1('MsFusedMatMulTransB', [a, b], { alpha: 0.5, transB: 1 }));
  const bytes = toOnnxModel(g);
  const m = decodeOnnxModel(bytes);
  assert.deepEqual(
    m.opsetImport.map((o) => [o.domain, Number(o.version)]),
    [
      ['', 18],
      ['com.microsoft', 1],
    ],
  );
  const s = await createSession(bytes);
  const out = await s.run({
    a: createTensor('float32', [1, 2], Float32Array.from([1, 2])),
    b: createTensor('float32', [3, 2], Float32Array.from([1, 0, 0, 1, 1, 1])),
  });
  assert.deepEqual(Array.from(out.c?.data as Float32Array), [0.5, 1, 1.5]);
  await s.release();
});
