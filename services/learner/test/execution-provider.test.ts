import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ExecutionProviderUnavailableError, probeExecutionProvider } from '@verdict/rl';
import type { RuntimeLogger } from '@verdict/runtime';
import type { RowBatch } from '../src/domain/train-rows.js';
import { createLearnerApp, loadLearnerConfig, parseRunConfig } from '../src/index.js';
import { createPolicyTrainer, type PolicyTrainerOptions } from '../src/training/policy-trainer.js';
import { writeToyStudent } from './helpers.js';

// This machine has the CPU-only onnxruntime-node build: LEARNER_EXECUTION_PROVIDER=cuda must fall
// back to CPU and say so, or fail the start with fallback never.

const student = writeToyStudent();
const runsDir = mkdtempSync(join(tmpdir(), 'verdict-learner-ep-'));
after(() => {
  student.cleanup();
  rmSync(runsDir, { recursive: true, force: true });
});

function captureLogger(): { logger: RuntimeLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    lines,
  };
}

function learnerApp(env: Record<string, string>, logger: RuntimeLogger) {
  const config = loadLearnerConfig({
    NATS_URL: `mem://learner-ep-${Math.random().toString(36).slice(2)}`,
    LEARNER_PORT: '0',
    LEARNER_HOST: '127.0.0.1',
    LEARNER_RUNS_DIR: runsDir,
    ...env,
  });
  return createLearnerApp(config, { logger, telemetry: false });
}

test('config: provider and fallback default to cpu and reject other values', () => {
  const base = { NATS_URL: 'nats://127.0.0.1:4222' };
  assert.equal(loadLearnerConfig(base).executionProvider, 'cpu');
  assert.equal(loadLearnerConfig(base).executionProviderFallback, 'cpu');
  assert.throws(
    () => loadLearnerConfig({ ...base, LEARNER_EXECUTION_PROVIDER: 'rocm' }),
    /LEARNER_EXECUTION_PROVIDER/,
  );
  assert.throws(
    () => loadLearnerConfig({ ...base, LEARNER_EXECUTION_PROVIDER_FALLBACK: 'gpu' }),
    /LEARNER_EXECUTION_PROVIDER_FALLBACK/,
  );
});

test('cuda requested without CUDA: the learner starts and logs the CPU fallback', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  const { logger, lines } = captureLogger();
  const app = learnerApp({ LEARNER_EXECUTION_PROVIDER: 'cuda' }, logger);
  try {
    await app.start();
    assert.equal(app.lifecycle.state, 'SERVING');
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
  const app = learnerApp(
    { LEARNER_EXECUTION_PROVIDER: 'cuda', LEARNER_EXECUTION_PROVIDER_FALLBACK: 'never' },
    captureLogger().logger,
  );
  try {
    await assert.rejects(app.start(), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /LEARNER_EXECUTION_PROVIDER=cuda/);
      assert.match(err.message, /LEARNER_EXECUTION_PROVIDER_FALLBACK=never/);
      return true;
    });
  } finally {
    await app.stop().catch(() => {});
  }
});

/** One right-padded row: prompt [1, 5, 6] then completion [7, 8, 2]. */
function tinyBatch(): RowBatch {
  const ids = [1, 5, 6, 7, 8, 2];
  const T = ids.length - 1;
  const lossMask = Float32Array.from({ length: T }, (_, t) => (t + 1 >= 3 ? 1 : 0));
  return {
    batchSize: 1,
    seqLen: T,
    inputIds: Int32Array.from(ids.slice(0, T)),
    attentionMask: new Int32Array(T).fill(1),
    targets: Int32Array.from(ids.slice(1)),
    lossMask,
    advantages: lossMask.map((m) => m * 0.5),
    rolloutLogprobs: new Float32Array(T),
    completionIndex: Int32Array.from({ length: T }, (_, t) => (t + 1 >= 3 ? t - 2 : -1)),
    rows: [],
  };
}

async function trainOnce(options: Omit<PolicyTrainerOptions, 'run'>) {
  const run = parseRunConfig({
    runId: 'ep',
    student: { checkpointUri: student.dir },
    judge: { modelId: 'j' },
    dataMix: [{ name: 'toy', limit: 8 }],
    promptsPerStep: 1,
    groupSize: 2,
    maxSteps: 1,
  });
  const trainer = createPolicyTrainer({ run, ...options });
  try {
    return await trainer.train([[tinyBatch()]], 1);
  } finally {
    await trainer.close();
  }
}

test('the trainer’s sessions get the provider: a CPU fallback trains exactly like CPU, never fails', async (t) => {
  const probe = await probeExecutionProvider('cuda');
  if (probe.available) return t.skip('CUDA EP is available on this machine');
  const cpu = await trainOnce({});
  const fallback = await trainOnce({ executionProvider: 'cuda' });
  assert.equal(cpu.optimizerSteps, 1);
  assert.ok(Number.isFinite(cpu.policyLoss) && cpu.gradNorm > 0);
  // Everything but the wall-clock phase timings must be identical.
  const { phaseMs: _cpuMs, ...cpuOut } = cpu;
  const { phaseMs: _fallbackMs, ...fallbackOut } = fallback;
  assert.deepEqual(fallbackOut, cpuOut);
  await assert.rejects(
    trainOnce({ executionProvider: 'cuda', executionProviderFallback: 'never' }),
    ExecutionProviderUnavailableError,
  );
});
