import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeExecutionProvider } from '@verdict/graph';
import type { RuntimeLogger } from '@verdict/runtime';
import { loadPolicyConfig } from '../src/config.js';
import { policyClient, startPolicy } from './helpers.js';

// This machine has the CPU-only onnxruntime-node build: POLICY_EXECUTION_PROVIDER=cuda must fall
// back to CPU and say so (log line + GetModelInfo), or fail the start with fallback never.

function captureLogger(): { logger: RuntimeLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    lines,
  };
}

test('config: provider and fallback default to cpu and reject other values', () => {
  const base = { POLICY_MODEL_DIR: '/models/x' };
  const config = loadPolicyConfig(base);
  assert.equal(config.model.executionProvider, 'cpu');
  assert.equal(config.model.executionProviderFallback, 'cpu');
  const cuda = loadPolicyConfig({
    ...base,
    POLICY_EXECUTION_PROVIDER: 'cuda',
    POLICY_EXECUTION_PROVIDER_FALLBACK: 'never',
  });
  assert.equal(cuda.model.executionProvider, 'cuda');
  assert.equal(cuda.model.executionProviderFallback, 'never');
  assert.throws(
    () => loadPolicyConfig({ ...base, POLICY_EXECUTION_PROVIDER: 'gpu' }),
    /POLICY_EXECUTION_PROVIDER/,
  );
  assert.throws(
    () => loadPolicyConfig({ ...base, POLICY_EXECUTION_PROVIDER_FALLBACK: 'maybe' }),
    /POLICY_EXECUTION_PROVIDER_FALLBACK/,
  );
});

test('default cpu: GetModelInfo reports cpu with no fallback', async () => {
  const { logger, lines } = captureLogger();
  const { app, address } = await startPolicy({}, { logger });
  const client = policyClient(address);
  try {
    const info = await client.unary('getModelInfo', {});
    assert.equal(info.ready, true);
    assert.deepEqual(info.executionProvider, { requested: 'cpu', active: 'cpu', fallbackReason: '' });
    assert.deepEqual(
      lines.filter((l) => l.includes('execution provider')),
      ['info execution provider: cpu'],
    );
  } finally {
    client.close();
    await app.stop();
  }
});

test('cuda requested without CUDA: SERVING on cpu, fallback in log, health and GetModelInfo', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  const { logger, lines } = captureLogger();
  const { app, address } = await startPolicy({ POLICY_EXECUTION_PROVIDER: 'cuda' }, { logger });
  const client = policyClient(address);
  try {
    assert.equal(app.health().state, 'SERVING');
    assert.equal(app.health().ready, true);
    const info = await client.unary('getModelInfo', {});
    assert.equal(info.ready, true);
    assert.equal(info.executionProvider?.requested, 'cuda');
    assert.equal(info.executionProvider?.active, 'cpu');
    assert.equal(info.executionProvider?.fallbackReason, probe.reason);
    assert.ok(probe.reason.length > 0);
    assert.deepEqual(app.health().executionProvider, {
      requested: 'cuda',
      active: 'cpu',
      fallbackReason: probe.reason,
    });
    assert.deepEqual(
      lines.filter((l) => l.includes('execution provider')),
      [`warn execution provider: cpu (requested cuda; fallback: ${probe.reason})`],
    );
  } finally {
    client.close();
    await app.stop();
  }
});

test('cuda requested with fallback never: the start fails naming the variables', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  await assert.rejects(
    startPolicy({ POLICY_EXECUTION_PROVIDER: 'cuda', POLICY_EXECUTION_PROVIDER_FALLBACK: 'never' }),
    (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /POLICY_EXECUTION_PROVIDER=cuda/);
      assert.match(err.message, /POLICY_EXECUTION_PROVIDER_FALLBACK=never/);
      return true;
    },
  );
});
