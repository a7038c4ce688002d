import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectNats, type Messaging } from '../src/messaging/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

const TOTAL = 10_000;
const REPUBLISHED = 1_000;
const KILL_AFTER = 3_000;
const SELF_KILL_AT = 6_000;
const STREAM = 'ROLLOUTS';
const CONSUMER = 'scorer';
const SUBJECT = 'verdict.rollout.generated';
const FIXTURE = fileURLToPath(new URL('./fixtures/exactly-once-consumer.ts', import.meta.url));

let server: NatsServerHandle;
let messaging: Messaging;
let outDir: string;

before(async () => {
  server = await startNatsServer();
  messaging = await connectNats({ servers: server.url, name: 'exactly-once-test' });
  outDir = mkdtempSync(join(tmpdir(), 'verdict-exactly-once-'));
});

after(async () => {
  await messaging?.close();
  await server?.stop();
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
});

const rolloutId = (i: number) => `r-${String(i).padStart(5, '0')}`;
const LINE_BYTES = rolloutId(0).length + 1;

function rolloutPayload(i: number): string {
  return JSON.stringify({
    id: rolloutId(i),
    runId: 'run-1',
    policyVersion: 3,
    promptId: `gsm8k-${i % 500}`,
    completionTokenIds: Array.from({ length: 48 }, (_, t) => (i * 31 + t) % 32_000),
    logprobs: Array.from({ length: 48 }, (_, t) => -((i + t) % 7) / 3),
  });
}

function spawnConsumer(extraEnv: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: {
      ...process.env,
      NATS_URL: server.url,
      STREAM,
      CONSUMER,
      OUT_DIR: outDir,
      EXPECTED_COUNT: String(TOTAL),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function waitForExit(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string }> {
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`consumer child did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
}

function recordedCount(): number {
  try {
    return Math.floor(statSync(join(outDir, 'processed.log')).size / LINE_BYTES);
  } catch {
    return 0;
  }
}

it('every rollout id is processed exactly once across a SIGKILLed consumer', async () => {
  await messaging.ensureStream({ name: STREAM, subjects: ['verdict.rollout.>'], duplicateWindowMs: 120_000 });
  await messaging.ensureConsumer({ stream: STREAM, name: CONSUMER, ackWaitMs: 2_000, maxDeliver: 20 });

  // Publish in windows of in-flight acks, then publish every 10th id again: the stream's
  // duplicate window must drop the repeats.
  const publishWindow = async (ids: number[]) => {
    const acks = await Promise.all(
      ids.map((i) => messaging.publish(SUBJECT, rolloutPayload(i), { msgId: rolloutId(i) })),
    );
    return acks.filter((a) => a.duplicate).length;
  };
  let firstDuplicates = 0;
  for (let start = 0; start < TOTAL; start += 500) {
    firstDuplicates += await publishWindow(Array.from({ length: 500 }, (_, k) => start + k));
  }
  const repeatDuplicates = await publishWindow(Array.from({ length: REPUBLISHED }, (_, k) => k * 10));
  assert.equal(firstDuplicates, 0);
  assert.equal(repeatDuplicates, REPUBLISHED);
  assert.equal((await messaging.jetstreamManager.streams.info(STREAM)).state.messages, TOTAL);

  // First consumer: killed without warning partway through.
  const first = spawnConsumer();
  const firstExit = waitForExit(first, 60_000);
  while (recordedCount() < KILL_AFTER) {
    if (first.exitCode !== null) throw new Error(`first consumer exited early with ${first.exitCode}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  first.kill('SIGKILL');
  await firstExit;
  const recordedAtKill = recordedCount();

  // Second consumer: dies between recording an id and acking it.
  const second = await waitForExit(spawnConsumer({ KILL_SELF_AT_RECORDED: String(SELF_KILL_AT) }), 60_000);
  assert.equal(second.code, null, 'second consumer was killed by its own SIGKILL');
  const recordedAtSelfKill = recordedCount();

  // Third consumer: resumes from the durable consumer and the processed set, and finishes.
  const third = await waitForExit(spawnConsumer(), 60_000);
  assert.equal(third.code, 0, `third consumer failed: ${third.stdout}`);

  const processedIds = readFileSync(join(outDir, 'processed.log'), 'utf8').split('\n').filter(Boolean);
  const deliveries = readFileSync(join(outDir, 'deliveries.log'), 'utf8').split('\n').filter(Boolean);
  const unique = new Set(processedIds);
  const redelivered = deliveries.filter((line) => !line.endsWith(' 1')).length;
  const alreadyRecorded = deliveries.length - processedIds.length;
  const expected = Array.from({ length: TOTAL }, (_, i) => rolloutId(i));

  console.log(
    `exactly-once: published ${TOTAL} (+${REPUBLISHED} repeats, all deduplicated), killed after ${recordedAtKill} and ${recordedAtSelfKill} recorded; ` +
      `delivered ${deliveries.length}, redelivered ${redelivered}, ` +
      `redelivered-but-already-recorded ${alreadyRecorded}, ` +
      `recorded ${processedIds.length}, unique ${unique.size}`,
  );
  assert.equal(processedIds.length, TOTAL, 'no id recorded twice');
  assert.equal(unique.size, TOTAL);
  assert.deepEqual([...unique].sort(), expected, 'no id lost');
  assert.ok(recordedAtKill < TOTAL, 'the kill happened mid-stream');
  assert.ok(redelivered > 0, 'the kills left unacked messages that the server redelivered');
  assert.ok(alreadyRecorded >= 1, 'the id recorded but not acked came back and was not recorded again');

  const info = await messaging.jetstreamManager.consumers.info(STREAM, CONSUMER);
  assert.equal(info.num_pending, 0);
  assert.equal(info.num_ack_pending, 0, 'every message acked');
});
