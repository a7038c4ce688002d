// Issue 17's StartRun / GetRunStatus findings through the real gRPC server (port 0): sizes are
// checked before any work, every refusal is INVALID_ARGUMENT naming the field and the limit, and
// no status echoes client text of any length.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { learnerV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError, silentLogger } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import { createLearnerApp, type LearnerApp, loadLearnerConfig } from '../src/index.js';
import { writeToyStudent } from './helpers.js';

let nats: NatsServerHandle;
let student: { dir: string; cleanup: () => void };
let runsDir: string;
let emptyDataDir: string;
let app: LearnerApp;
const connect = (address: string) =>
  createGrpcClient(learnerV1.LearnerServiceClient, address, { defaultDeadlineMs: 20_000 });
let client: ReturnType<typeof connect>;

before(async () => {
  nats = await startNatsServer();
  student = writeToyStudent();
  runsDir = mkdtempSync(join(tmpdir(), 'verdict-learner-limits-'));
  emptyDataDir = mkdtempSync(join(tmpdir(), 'verdict-learner-limits-data-'));
  app = createLearnerApp(
    loadLearnerConfig({
      NATS_URL: nats.url,
      LEARNER_PORT: '0',
      LEARNER_HOST: '127.0.0.1',
      LEARNER_RUNS_DIR: runsDir,
      // No datasets: a suite source fails to load (the ordering test below).
      VERDICT_DATA_DIR: emptyDataDir,
    }),
    { logger: silentLogger, telemetry: false },
  );
  const { address } = await app.start();
  client = connect(address);
});

after(async () => {
  client.close();
  await app.stop();
  await nats.stop();
  student.cleanup();
  rmSync(runsDir, { recursive: true, force: true });
  rmSync(emptyDataDir, { recursive: true, force: true });
});

function config(overrides: Partial<learnerV1.RunConfig> = {}): learnerV1.RunConfig {
  return learnerV1.RunConfig.fromPartial({
    runId: 'limits',
    student: { checkpointUri: student.dir },
    judge: { modelId: 'j' },
    dataMix: [{ name: 'toy', limit: 8 }],
    promptsPerStep: 1,
    groupSize: 2,
    maxSteps: 1,
    ...overrides,
  });
}

/** Rejected with `code`, naming `field`, the message matching `message` and short (≤ 2 KB). */
async function rejects(p: Promise<unknown>, code: string, field: RegExp, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVerdictError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.field ?? '', field);
    assert.match(e.message, message);
    assert.ok(e.message.length <= 2048, `status message is ${e.message.length} chars`);
    return true;
  });
}

const start = (c: learnerV1.RunConfig) => client.unary('startRun', { config: c, resume: false });

test('StartRun with 10,000 data_mix entries is refused before any toy problem is generated', async () => {
  const dataMix = Array.from({ length: 10_000 }, () => ({ name: 'toy', split: '', weight: 0, limit: 0 }));
  await rejects(
    start(config({ dataMix })),
    'INVALID_ARGUMENT',
    /^dataMix$/,
    /at most 32 item\(s\) \(got 10000\)/,
  );
  // The server is still answering (it was not busy generating 10M problems).
  await rejects(client.unary('getRunStatus', { runId: 'nope' }), 'NOT_FOUND', /run_id/, /unknown run nope/);
});

test('StartRun bounds the toy problems one run generates', async () => {
  await rejects(
    start(config({ dataMix: [{ name: 'toy', split: 'id', weight: 1, limit: 10_000_000 }] })),
    'INVALID_ARGUMENT',
    /^dataMix$/,
    /at most 100000 problems .*got 10000000/,
  );
  const many = Array.from({ length: 32 }, () => ({ name: 'toy', split: 'id', weight: 1, limit: 5000 }));
  await rejects(start(config({ dataMix: many })), 'INVALID_ARGUMENT', /^dataMix$/, /got 160000/);
});

test('StartRun checks the model folders before it loads or generates any problem of the data mix', async () => {
  // A missing student folder and a source that cannot load: the folder is refused first, so a
  // StartRun naming a missing folder never pays for up to 100,000 toy problems (~2 s of event loop).
  await rejects(
    start(
      config({
        student: { modelId: '', checkpointUri: '/nonexistent/verdict-limits' },
        dataMix: [{ name: 'gsm8k-test', split: '', weight: 1, limit: 8 }],
      }),
    ),
    'INVALID_ARGUMENT',
    /^student\.checkpointUri$/,
    /model config not found/,
  );
  // With the student present, the same source is what fails: the check above was the ordering.
  await rejects(
    start(config({ dataMix: [{ name: 'gsm8k-test', split: '', weight: 1, limit: 8 }] })),
    'INVALID_ARGUMENT',
    /^dataMix$/,
    /data source gsm8k-test/,
  );
});

test('StartRun bounds strings and the other repeated fields, naming field and limit', async () => {
  const mb = 'x'.repeat(1 << 20);
  await rejects(
    start(config({ dataMix: [{ name: mb, split: '', weight: 0, limit: 0 }] })),
    'INVALID_ARGUMENT',
    /^dataMix\[0\]\.name$/,
    /at most 128 characters \(got 1048576\)/,
  );
  await rejects(
    start(config({ student: { modelId: '', checkpointUri: mb } })),
    'INVALID_ARGUMENT',
    /^student\.checkpointUri$/,
    /at most 4096 characters/,
  );
  await rejects(
    start(config({ evalSuites: Array.from({ length: 1000 }, () => 'toy-id') })),
    'INVALID_ARGUMENT',
    /^evalSuites$/,
    /at most 32 item/,
  );
  await rejects(
    start(
      config({
        rolloutSampling: {
          temperature: 1,
          topP: 1,
          topK: 0,
          maxNewTokens: 16,
          stopTokenIds: [],
          stopStrings: Array.from({ length: 100 }, () => 'stop'),
        },
      }),
    ),
    'INVALID_ARGUMENT',
    /^rolloutSampling\.stopStrings$/,
    /at most 16 item/,
  );
  await rejects(
    start(config({ reward: { judgeTemplateName: mb, judgeAbstainBand: 0, verifiableCheck: 0 } })),
    'INVALID_ARGUMENT',
    /^reward\.judgeTemplateName$/,
    /at most 128 characters/,
  );
});

test('run ids of any length get a short INVALID_ARGUMENT, not an echo', async () => {
  const mb = 'r'.repeat(1 << 20);
  for (const method of ['getRunStatus', 'stopRun'] as const) {
    await rejects(
      client.unary(method, { runId: mb }),
      'INVALID_ARGUMENT',
      /^run_id$/,
      /at most 64 characters/,
    );
  }
  // 64 characters is a valid length: NOT_FOUND quotes it whole.
  await rejects(client.unary('getRunStatus', { runId: 'a'.repeat(64) }), 'NOT_FOUND', /run_id/, /a{64}$/);
});

test('unknown staleness_policy values and out-of-range judge_timeout are INVALID_ARGUMENT', async () => {
  await rejects(
    start(config({ stalenessPolicy: 99 as learnerV1.StalenessPolicy })),
    'INVALID_ARGUMENT',
    /^stalenessPolicy$/,
    /must be one of .*got 99/,
  );
  for (const seconds of [-1n, 2n ** 63n - 1n]) {
    await rejects(
      start(
        config({
          reward: {
            judgeTimeout: { seconds, nanos: 0 },
            judgeTemplateName: '',
            judgeAbstainBand: 0,
            verifiableCheck: 0,
          },
        }),
      ),
      'INVALID_ARGUMENT',
      /^reward\.judgeTimeout$/,
      /must be in \[1 ms, 600 s\]/,
    );
  }
});

test('a wrong student.checkpoint_uri is INVALID_ARGUMENT naming it, not INTERNAL', async () => {
  await rejects(
    start(config({ student: { modelId: 's', checkpointUri: join(runsDir, 'no-such-model') } })),
    'INVALID_ARGUMENT',
    /^student\.checkpointUri$/,
    /student\.checkpointUri/,
  );
  await rejects(
    start(config({ student: { modelId: 's', checkpointUri: runsDir } })),
    'INVALID_ARGUMENT',
    /^student\.checkpointUri$/,
    /student\.checkpointUri/,
  );
});
