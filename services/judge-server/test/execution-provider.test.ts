import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { probeExecutionProvider } from '@verdict/graph';
import { health, judgeV1 } from '@verdict/proto';
import { createGrpcClient, type RuntimeLogger } from '@verdict/runtime';
import { loadJudgeServerConfig } from '../src/config.js';
import { JUDGE_SERVICE_NAME } from '../src/index.js';
import { startJudgeApp } from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

// This machine has the CPU-only onnxruntime-node build: JUDGE_EXECUTION_PROVIDER=cuda must fall
// back to CPU and say so (log line, GetJudgeInfo), or fail the start with fallback never.

const fixture = writeToyJudgeModel({ maxPositions: 64 });
after(() => fixture.cleanup());

function captureLogger(): { logger: RuntimeLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    lines,
  };
}

async function judgeInfo(address: string) {
  const info = createGrpcClient(judgeV1.JudgeInfoServiceClient, address, { defaultDeadlineMs: 10_000 });
  const checks = createGrpcClient(health.HealthClient, address, { defaultDeadlineMs: 10_000 });
  try {
    const serving = await checks.unary('check', { service: JUDGE_SERVICE_NAME });
    return { serving: serving.status, info: await info.unary('getJudgeInfo', {}) };
  } finally {
    info.close();
    checks.close();
  }
}

test('config: provider and fallback default to cpu and reject other values', () => {
  const base = { JUDGE_MODEL_DIR: '/models/j' };
  assert.equal(loadJudgeServerConfig(base).executionProvider, 'cpu');
  assert.equal(loadJudgeServerConfig(base).executionProviderFallback, 'cpu');
  const cuda = loadJudgeServerConfig({
    ...base,
    JUDGE_EXECUTION_PROVIDER: 'cuda',
    JUDGE_EXECUTION_PROVIDER_FALLBACK: 'never',
  });
  assert.equal(cuda.executionProvider, 'cuda');
  assert.equal(cuda.executionProviderFallback, 'never');
  assert.throws(
    () => loadJudgeServerConfig({ ...base, JUDGE_EXECUTION_PROVIDER: 'tpu' }),
    /JUDGE_EXECUTION_PROVIDER/,
  );
});

test('default cpu: GetJudgeInfo reports the model and cpu with no fallback', async () => {
  const { logger, lines } = captureLogger();
  const app = startJudgeApp(fixture.dir, { JUDGE_MODEL_ID: 'toy-judge' }, { logger });
  try {
    const { address } = await app.start();
    const { serving, info } = await judgeInfo(address);
    assert.equal(serving, health.HealthCheckResponse_ServingStatus.SERVING);
    assert.equal(info.ready, true);
    assert.equal(info.judgeModelId, 'toy-judge');
    assert.equal(info.defaultTemplateName, 'plain');
    assert.equal(info.maxPromptTokens, 64);
    assert.equal(info.maxBatchSize, 32);
    assert.deepEqual(info.executionProvider, { requested: 'cpu', active: 'cpu', fallbackReason: '' });
    assert.deepEqual(
      lines.filter((l) => l.includes('execution provider')),
      ['info execution provider: cpu'],
    );
  } finally {
    await app.stop();
  }
});

test('cuda requested without CUDA: SERVING on cpu, fallback in the log and GetJudgeInfo', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  const { logger, lines } = captureLogger();
  const app = startJudgeApp(fixture.dir, { JUDGE_EXECUTION_PROVIDER: 'cuda' }, { logger });
  try {
    const { address } = await app.start();
    const { serving, info } = await judgeInfo(address);
    assert.equal(serving, health.HealthCheckResponse_ServingStatus.SERVING);
    assert.equal(info.ready, true);
    assert.deepEqual(info.executionProvider, {
      requested: 'cuda',
      active: 'cpu',
      fallbackReason: probe.reason,
    });
    assert.ok(probe.reason.length > 0);
    assert.deepEqual(app.executionProvider, {
      requested: 'cuda',
      active: 'cpu',
      fallbackReason: probe.reason,
    });
    assert.deepEqual(
      lines.filter((l) => l.includes('execution provider')),
      [`warn execution provider: cpu (requested cuda; fallback: ${probe.reason})`],
    );
  } finally {
    await app.stop();
  }
});

test('cuda requested with fallback never: the start fails naming the variables', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  const app = startJudgeApp(fixture.dir, {
    JUDGE_EXECUTION_PROVIDER: 'cuda',
    JUDGE_EXECUTION_PROVIDER_FALLBACK: 'never',
  });
  try {
    await assert.rejects(app.start(), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /JUDGE_EXECUTION_PROVIDER=cuda/);
      assert.match(err.message, /JUDGE_EXECUTION_PROVIDER_FALLBACK=never/);
      return true;
    });
    assert.equal(app.engine, undefined);
  } finally {
    await app.stop().catch(() => {});
  }
});
