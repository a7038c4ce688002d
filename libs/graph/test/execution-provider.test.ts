import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createGraph,
  createSession,
  createSessionPool,
  createTensor,
  ExecutionProviderUnavailableError,
  formatExecutionProvider,
  probeExecutionProvider,
  resolveExecutionProvider,
  type Tensor,
  toOnnxModel,
} from '../src/index.js';
import * as R from './reference.js';

// This machine has the CPU-only onnxruntime-node build (no CUDA EP libraries), so 'cuda' is
// unavailable here; on a CUDA machine the same tests check the other branch.

function tinyModel(): Uint8Array {
  const g = createGraph();
  const x = g.input('x', 'float32', ['rows', 4]);
  const w = g.param(
    'w',
    'float32',
    [4, 3],
    Float32Array.from({ length: 12 }, (_, i) => (i - 5) / 7),
  );
  g.output('p', g.softmax(g.matmul(x, w)));
  return toOnnxModel(g, { name: 'ep-tiny' });
}

const input = R.randn([5, 4], R.rng(11));
const feeds = (): Record<string, Tensor> => ({
  x: createTensor('float32', [5, 4], Float32Array.from(input.data)),
});

function pOf(out: Record<string, Tensor>): number[] {
  const p = out['p'];
  if (p === undefined) throw new Error('no output p');
  return [...(p.data as Float32Array)];
}

async function cpuReference(): Promise<number[]> {
  const s = await createSession(tinyModel());
  try {
    return pOf(await s.run(feeds()));
  } finally {
    await s.release();
  }
}

test('default provider is cpu with no fallback', async () => {
  const s = await createSession(tinyModel());
  try {
    assert.deepEqual(s.executionProvider, { requested: 'cpu', active: 'cpu' });
    assert.equal(formatExecutionProvider(s.executionProvider), 'cpu');
  } finally {
    await s.release();
  }
  assert.deepEqual(await resolveExecutionProvider(), { requested: 'cpu', active: 'cpu' });
});

test('cuda with fallback cpu gives a working session that says it runs on cpu and why', async () => {
  const probe = await probeExecutionProvider('cuda');
  const s = await createSession(tinyModel(), { executionProvider: 'cuda' });
  try {
    const out = pOf(await s.run(feeds()));
    const ref = await cpuReference();
    if (probe.available) {
      assert.deepEqual(s.executionProvider, { requested: 'cuda', active: 'cuda' });
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(out[i]! - ref[i]!) < 1e-5);
      return;
    }
    assert.equal(s.executionProvider.requested, 'cuda');
    assert.equal(s.executionProvider.active, 'cpu');
    const reason = s.executionProvider.fallbackReason ?? '';
    assert.ok(reason.length > 0, 'a fallback carries its reason');
    assert.equal(reason, probe.reason, 'the reason is the probe error text');
    // The CPU fallback is the same computation as a plain CPU session: identical bits.
    assert.deepEqual(out, ref);
    assert.match(formatExecutionProvider(s.executionProvider), /^cpu \(requested cuda; fallback: .+\)$/);
  } finally {
    await s.release();
  }
});

test('on the CPU-only build the reason is ORT’s error naming the missing CUDA libraries', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  assert.match(probe.reason, /Cuda|cuda/);
  if (process.platform === 'linux' && process.arch === 'x64') {
    assert.match(probe.reason, /Failed to load shared library/);
    assert.match(probe.reason, /libonnxruntime_providers_cuda\.so/);
  }
});

test('cuda with fallback never throws a clear error', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  await assert.rejects(
    createSession(tinyModel(), { executionProvider: 'cuda', executionProviderFallback: 'never' }),
    (err: unknown) => {
      assert.ok(err instanceof ExecutionProviderUnavailableError);
      assert.equal(err.requested, 'cuda');
      assert.equal(err.reason, probe.reason);
      assert.match(err.message, /executionProviderFallback 'never' forbids falling back to CPU/);
      return true;
    },
  );
  await assert.rejects(
    resolveExecutionProvider(
      { executionProvider: 'cuda', executionProviderFallback: 'never' },
      { variable: 'JUDGE_EXECUTION_PROVIDER' },
    ),
    /JUDGE_EXECUTION_PROVIDER=cuda was requested .*JUDGE_EXECUTION_PROVIDER_FALLBACK=never/,
  );
  const resolved = await resolveExecutionProvider({ executionProvider: 'cuda' });
  assert.deepEqual(resolved, { requested: 'cuda', active: 'cpu', fallbackReason: probe.reason });
});

test('the session pool threads the provider through its workers', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  const ref = await cpuReference();
  const pool = createSessionPool({ workers: 2, executionProvider: 'cuda' });
  try {
    const [cpu, fallback] = await Promise.all([
      pool.load(tinyModel(), { executionProvider: 'cpu' }),
      pool.load(tinyModel(), { replicas: 2 }),
    ]);
    assert.deepEqual(cpu.executionProvider, { requested: 'cpu', active: 'cpu' });
    assert.equal(fallback.executionProvider.requested, 'cuda');
    assert.equal(fallback.executionProvider.active, 'cpu');
    // Probed again inside the worker thread: the same ORT error text.
    assert.equal(fallback.executionProvider.fallbackReason, probe.reason);
    const out = pOf(await fallback.run(feeds()));
    assert.deepEqual(out, ref);

    // 'never' fails the load with the same error class; the pool keeps serving.
    await assert.rejects(pool.load(tinyModel(), { executionProviderFallback: 'never' }), (err: unknown) => {
      assert.ok(err instanceof ExecutionProviderUnavailableError);
      assert.equal(err.reason, probe.reason);
      return true;
    });
    assert.deepEqual(pOf(await cpu.run(feeds())), ref);
  } finally {
    await pool.close();
  }
});
