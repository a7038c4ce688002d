import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeModelProto } from '../src/emit.js';
import {
  createGraph,
  createSessionPool,
  createTensor,
  decodeOnnxModel,
  type GraphBuilder,
  initializerBytes,
  openExternalDataFile,
  toOnnxModel,
  writeOnnxModel,
} from '../src/index.js';
import * as R from './reference.js';

const r = R.rng(11);
const randn = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);

/** Weights shared by the graphs below (the same arrays, as a model's graphs share its weights). */
const W1 = randn(16 * 24);
const B1 = randn(24);
const W2 = randn(24 * 8);

/** x [n, 16] → relu(x·W1 + b1)·W2, reshaped through an int64 shape constant; a bool constant too. */
function mlp(): GraphBuilder {
  const g = createGraph();
  const x = g.input('x', 'float32', ['n', 16]);
  const w1 = g.param('w1', 'float32', [16, 24], W1);
  const b1 = g.param('b1', 'float32', [24], B1);
  const w2 = g.param('w2', 'float32', [24, 8], W2);
  const h = g.relu(g.add(g.matmul(x, w1), b1));
  const y = g.matmul(h, w2);
  g.output('y', g.reshape(y, [-1, 2, 4]));
  g.output('z', g.mul(g.matmul(x, w1), 0.5));
  return g;
}

/** Only the first layer of mlp(): a second model over some of the same weight arrays. */
function firstLayer(): GraphBuilder {
  const g = createGraph();
  const x = g.input('x', 'float32', ['n', 16]);
  const w1 = g.param('w1', 'float32', [16, 24], W1);
  const b1 = g.param('b1', 'float32', [24], B1);
  g.output('h', g.add(g.matmul(x, w1), b1));
  return g;
}

describe('ONNX external data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graph-extdata-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('minBytes 0: every float initializer goes to the side file at aligned offsets, shape constants stay inline', () => {
    const path = join(dir, 'all.onnx');
    const w = writeOnnxModel(mlp(), { path, externalData: { minBytes: 0, align: 64 } });
    assert.equal(w.dataPath, join(dir, 'all.onnx.data'));
    const m = decodeOnnxModel(readFileSync(path));
    const inits = m.graph!.initializer!;
    const isFloat = (t: (typeof inits)[number]) => t.dataType === 1; // FLOAT
    const floats = inits.filter(isFloat);
    assert.equal(floats.length, w.externalTensors);
    assert.ok(floats.length >= 4, 'three params and the 0.5 constant');
    assert.equal(inits.length - floats.length, w.inlineTensors);
    assert.ok(w.inlineTensors >= 1, 'the int64 reshape shape');
    let end = 0;
    for (const t of inits) {
      if (!isFloat(t)) {
        assert.notEqual(t.dataLocation, 1, `${t.name} (a shape constant) stays inline`);
        continue;
      }
      assert.equal(t.dataLocation, 1, `${t.name} is EXTERNAL`);
      assert.equal(t.rawData?.byteLength ?? 0, 0, `${t.name} has no inline data`);
      const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      assert.equal(kv['location'], 'all.onnx.data');
      const offset = Number(kv['offset']);
      assert.equal(offset % 64, 0, `${t.name} offset ${offset} is 64-aligned`);
      end = Math.max(end, offset + Number(kv['length']));
    }
    assert.equal(statSync(w.dataPath!).size, end);
    // The side file holds the weights' bytes as they are.
    const w2 = inits.find((t) => t.name === 'w2')!;
    const kv = Object.fromEntries((w2.externalData ?? []).map((e) => [e.key, e.value]));
    const data = readFileSync(w.dataPath!).subarray(
      Number(kv['offset']),
      Number(kv['offset']) + Number(kv['length']),
    );
    assert.ok(data.equals(Buffer.from(W2.buffer, W2.byteOffset, W2.byteLength)));
  });

  it('outputs through the session pool are bit-identical to the inline model', async () => {
    const ext = writeOnnxModel(mlp(), { path: join(dir, 'mlp.onnx'), externalData: { minBytes: 0 } });
    const pool = createSessionPool({ workers: 1 });
    try {
      const inline = await pool.load(toOnnxModel(mlp()));
      const fromFile = await pool.load(ext.path);
      // Feeds are transferred to the worker: each run gets its own copy.
      const xs = randn(5 * 16);
      const x = () => createTensor('float32', [5, 16], xs.slice());
      const a = await inline.run({ x: x() });
      const b = await fromFile.run({ x: x() });
      for (const name of ['y', 'z']) {
        assert.deepEqual(b[name]!.dims, a[name]!.dims, name);
        const bytes = (t: ReturnType<typeof x>) =>
          Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
        assert.ok(
          bytes(b[name] as ReturnType<typeof x>).equals(bytes(a[name] as ReturnType<typeof x>)),
          `${name} bit-identical`,
        );
      }
    } finally {
      await pool.close();
    }
  });

  it('minBytes keeps small initializers inline', () => {
    const g = mlp();
    const w = writeOnnxModel(g, { path: join(dir, 'mixed.onnx'), externalData: { minBytes: 16 * 24 * 4 } });
    const m = decodeOnnxModel(readFileSync(w.path));
    const external = m.graph!.initializer!.filter((t) => t.dataLocation === 1).map((t) => t.name);
    assert.deepEqual(external, ['w1']);
    assert.equal(w.externalTensors, 1);
    assert.equal(statSync(w.dataPath!).size, W1.byteLength);
    assert.ok(initializerBytes(g) > W1.byteLength + W2.byteLength);
  });

  it('two models sharing one side file write each weight array once, and both load', async () => {
    const file = openExternalDataFile(join(dir, 'shared.data'));
    let one: ReturnType<typeof writeOnnxModel>;
    let two: ReturnType<typeof writeOnnxModel>;
    try {
      one = writeOnnxModel(mlp(), { path: join(dir, 'one.onnx'), externalData: { file, minBytes: 512 } });
      const afterOne = file.bytes;
      two = writeOnnxModel(firstLayer(), {
        path: join(dir, 'two.onnx'),
        externalData: { file, minBytes: 512 },
      });
      assert.equal(file.bytes, afterOne, 'w1 was already in the file');
      assert.equal(one.dataPath, file.path);
      assert.equal(two.externalTensors, 1);
    } finally {
      file.close();
    }
    const pool = createSessionPool({ workers: 1 });
    try {
      const xs = randn(3 * 16);
      const x = () => createTensor('float32', [3, 16], xs.slice());
      const ref = await (await pool.load(toOnnxModel(firstLayer()))).run({ x: x() });
      const got = await (await pool.load(two.path)).run({ x: x() });
      assert.deepEqual(
        Array.from(got['h']!.data as Float32Array),
        Array.from(ref['h']!.data as Float32Array),
      );
      const y = await (await pool.load(one.path)).run({ x: x() });
      assert.deepEqual(y['y']!.dims, [3, 2, 4]);
    } finally {
      await pool.close();
    }
  });

  it('rejects a side file outside the model folder and inline bytes over protobuf limit', () => {
    assert.throws(
      () => writeOnnxModel(mlp(), { path: join(dir, 'bad.onnx'), externalData: { file: '../x.data' } }),
      /externalData.file must be a file name in the model's folder/,
    );
    const elsewhere = mkdtempSync(join(tmpdir(), 'graph-extdata-other-'));
    const file = openExternalDataFile(join(elsewhere, 'w.data'));
    try {
      assert.throws(
        () => writeOnnxModel(mlp(), { path: join(dir, 'bad.onnx'), externalData: { file } }),
        /must lie in the model's folder/,
      );
    } finally {
      file.close();
      rmSync(elsewhere, { recursive: true, force: true });
    }
    assert.throws(() => encodeModelProto({}, 2 ** 31), /exceed protobuf's 2 GiB limit.*externalData/);
  });
});
