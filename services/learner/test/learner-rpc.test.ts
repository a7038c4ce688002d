import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { learnerV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError, silentLogger } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import { createLearnerApp, type LearnerApp, loadLearnerConfig, parseRunConfig } from '../src/index.js';
import { writeToyStudent } from './helpers.js';

let nats: NatsServerHandle;
let student: { dir: string; cleanup: () => void };
let runsDir: string;
let app: LearnerApp;
const connect = (address: string) =>
  createGrpcClient(learnerV1.LearnerServiceClient, address, { defaultDeadlineMs: 20_000 });
let client: ReturnType<typeof connect>;

before(async () => {
  nats = await startNatsServer();
  student = writeToyStudent();
  runsDir = mkdtempSync(join(tmpdir(), 'verdict-learner-rpc-'));
  app = createLearnerApp(
    loadLearnerConfig({
      NATS_URL: nats.url,
      LEARNER_PORT: '0',
      LEARNER_HOST: '127.0.0.1',
      LEARNER_RUNS_DIR: runsDir,
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
});

function wire(runId: string) {
  return parseRunConfig({
    runId,
    student: { checkpointUri: student.dir },
    judge: { modelId: 'j' },
    dataMix: [{ name: 'toy', limit: 8 }],
    promptsPerStep: 1,
    groupSize: 2,
    maxSteps: 5,
  });
}

async function rejects(p: Promise<unknown>, code: string, field: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVerdictError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.field ?? '', field);
    return true;
  });
}

test('StartRun validates the config like a file: INVALID_ARGUMENT naming the field and limit', async () => {
  const bad = { ...wire('bad'), groupSize: 1, learningRate: -0.5 };
  await rejects(client.unary('startRun', { config: bad, resume: false }), 'INVALID_ARGUMENT', /groupSize/);
  await rejects(client.unary('startRun', { resume: false }), 'INVALID_ARGUMENT', /^config$/);
  await rejects(client.unary('getRunStatus', { runId: 'nope' }), 'NOT_FOUND', /run_id/);
  await rejects(client.unary('getRunStatus', { runId: '' }), 'INVALID_ARGUMENT', /run_id/);
});

test('a run waiting for rollouts: ALREADY_EXISTS for its id, StopRun stops it without consuming anything', async () => {
  // No policy-server: step 1 waits for scored rollouts that never come.
  const started = await client.unary('startRun', { config: wire('waiting'), resume: false });
  assert.equal(started.status?.runId, 'waiting');
  await rejects(
    client.unary('startRun', { config: wire('waiting'), resume: false }),
    'ALREADY_EXISTS',
    /run_id/,
  );
  await rejects(
    client.unary('startRun', { config: wire('other'), resume: false }),
    'FAILED_PRECONDITION',
    /run_id/,
  );
  const stream = (async () => {
    const got: learnerV1.StepMetrics[] = [];
    for await (const r of client.serverStream('streamMetrics', { runId: 'waiting', fromStep: 0n })) {
      if (r.metrics) got.push(r.metrics);
    }
    return got;
  })();
  await new Promise((r) => setTimeout(r, 300));
  const stopped = await client.unary('stopRun', { runId: 'waiting', reason: 'test' });
  assert.ok(
    [learnerV1.RunState.RUN_STATE_STOPPING, learnerV1.RunState.RUN_STATE_STOPPED].includes(
      stopped.status!.state,
    ),
  );
  assert.deepEqual(await stream, [], 'the metrics stream ends with the run');
  const status = (await client.unary('getRunStatus', { runId: 'waiting' })).status!;
  assert.equal(status.state, learnerV1.RunState.RUN_STATE_STOPPED);
  assert.equal(status.step, 0n);
  assert.equal(status.message, 'test');
  // Idempotent, and a stopped run can be started again (another id is free now too).
  await client.unary('stopRun', { runId: 'waiting', reason: 'again' });
  const again = await client.unary('startRun', { config: wire('other'), resume: false });
  assert.equal(again.status?.runId, 'other');
  await client.unary('stopRun', { runId: 'other', reason: 'done' });
});

test('scored rollouts of a completed run are acked; those of a known inactive run are handed back for a later resume; an unknown run is terminated', async () => {
  const { connectNats } = await import('@verdict/runtime');
  const { rolloutV1 } = await import('@verdict/proto');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  // A run dir whose latest checkpoint reached its max steps.
  mkdirSync(join(runsDir, 'done-run', 'checkpoints'), { recursive: true });
  writeFileSync(join(runsDir, 'done-run', 'run-config.json'), JSON.stringify({ maxSteps: 2 }));
  writeFileSync(
    join(runsDir, 'done-run', 'checkpoints', 'latest.json'),
    JSON.stringify({ step: 2, dir: 'step-000002' }),
  );
  // A run dir without a finished checkpoint: a run this learner may resume.
  mkdirSync(join(runsDir, 'paused-run'), { recursive: true });
  const m = await connectNats({ servers: nats.url });
  try {
    const scored = (runId: string) =>
      rolloutV1.RolloutScored.encode({
        generated: {
          request: rolloutV1.RolloutRequested.fromPartial({
            rolloutId: `${runId}.s1.q0.g0`,
            runId,
            groupSize: 2,
          }),
          promptTokenIds: [1],
          completionTokenIds: [2],
          logprobs: [-1],
          completionText: '',
          finishReason: 0,
          policyVersion: 0n,
          generatorId: 'x',
        },
      }).finish();
    await m.publish('verdict.rollout.scored', scored('ghost-run'), { msgId: 'ghost' });
    await m.publish('verdict.rollout.scored', scored('done-run'), { msgId: 'done' });
    await m.publish('verdict.rollout.scored', scored('paused-run'), { msgId: 'paused' });
    let pending = -1;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const info = await m.jetstreamManager.consumers.info('VERDICT_ROLLOUTS', 'learner');
      pending = info.num_ack_pending + info.num_pending;
      if (info.delivered.stream_seq >= 3 && pending === 1) break;
    }
    // ghost-run (no run dir) is terminated as poison, done-run acked: only paused-run waits.
    assert.equal(pending, 1, 'only the known inactive run stays pending');
  } finally {
    await m.close();
  }
});
