import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createGraph,
  createSession,
  createSessionPool,
  createTensor,
  probeExecutionProvider,
  type Tensor,
  toOnnxModel,
} from '../src/index.js';

// Runs only with VERDICT_GPU_TESTS=1 (scripts/run-tests.mjs), on a machine with a GPU and
// onnxruntime-node's CUDA EP installed (ONNXRUNTIME_NODE_INSTALL=cuda12): there 'cuda' must be
// active, never a silent fallback, and agree with CPU.

function model(): Uint8Array {
  const g = createGraph();
  const x = g.input('x', 'float32', ['rows', 64]);
  const w = g.param(
    'w',
    'float32',
    [64, 32],
    Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i) / 8),
  );
  g.output('p', g.softmax(g.matmul(x, w)));
  return toOnnxModel(g, { name: 'ep-gpu' });
}

const feeds = (): Record<string, Tensor> => ({
  x: createTensor(
    'float32',
    [16, 64],
    Float32Array.from({ length: 16 * 64 }, (_, i) => Math.cos(i)),
  ),
});

test('cuda is available and active, and matches CPU', async () => {
  const probe = await probeExecutionProvider('cuda');
  assert.ok(probe.available, probe.available ? '' : probe.reason);
  const gpu = await createSession(model(), { executionProvider: 'cuda', executionProviderFallback: 'never' });
  const cpu = await createSession(model());
  try {
    assert.deepEqual(gpu.executionProvider, { requested: 'cuda', active: 'cuda' });
    const a = (await gpu.run(feeds()))['p']?.data as Float32Array;
    const b = (await cpu.run(feeds()))['p']?.data as Float32Array;
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `p[${i}]`);
  } finally {
    await gpu.release();
    await cpu.release();
  }
  const pool = createSessionPool({ executionProvider: 'cuda', executionProviderFallback: 'never' });
  try {
    const s = await pool.load(model());
    assert.deepEqual(s.executionProvider, { requested: 'cuda', active: 'cuda' });
  } finally {
    await pool.close();
  }
});
