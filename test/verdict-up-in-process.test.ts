// `verdict up` where no nats-server can be found (NATS_SERVER_BIN points nowhere): the stack runs
// on the in-process messaging transport, says so, and completes a run like verdict-up.test.ts.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { learnerV1 } from '@verdict/proto';
import { createGrpcClient } from '@verdict/runtime';

const REPO = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'verdict-up-mem-'));
let child: ChildProcess | undefined;

after(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('verdict up --toy without nats-server uses the in-process transport and completes a run', async () => {
  const runConfigPath = join(work, 'run.json');
  writeFileSync(
    runConfigPath,
    JSON.stringify({
      runId: 'up-mem-run',
      student: { checkpointUri: 'toy-student' },
      judge: { modelId: 'toy-judge' },
      dataMix: [{ name: 'toy', limit: 32 }],
      labeledRatio: { labeled: 1, unlabeled: 1 },
      reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
      promptsPerStep: 2,
      groupSize: 2,
      learningRate: 0.01,
      rolloutSampling: { temperature: 1, maxNewTokens: 8 },
      maxSteps: 2,
    }),
  );
  let stdout = '';
  let stderr = '';
  child = spawn(
    process.execPath,
    [
      join(REPO, 'cli/bin/verdict.mjs'),
      'up',
      '--toy',
      '--work-dir',
      work,
      '--run-config',
      runConfigPath,
      '--json',
    ],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NATS_SERVER_BIN: '/nonexistent/nats-server' },
    },
  );
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));

  const up = await waitFor(
    'up.json',
    () =>
      existsSync(join(work, 'up.json')) ? JSON.parse(readFileSync(join(work, 'up.json'), 'utf8')) : undefined,
    90_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${stderr}`);
  });
  assert.equal(up.transport, 'memory');
  assert.equal(up.addresses.nats, 'mem://verdict');
  assert.match(stderr, /messaging: in-process transport \(mem:\/\/verdict\)/);
  const learner = createGrpcClient(learnerV1.LearnerServiceClient, up.addresses.learner, {
    defaultDeadlineMs: 10_000,
  });
  try {
    const deadline = Date.now() + 120_000;
    let status: learnerV1.RunStatus | undefined;
    while (Date.now() < deadline) {
      status = (await learner.unary('getRunStatus', { runId: 'up-mem-run' })).status;
      if (status && status.state >= learnerV1.RunState.RUN_STATE_STOPPED) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status?.state, learnerV1.RunState.RUN_STATE_COMPLETED, status?.message);
    assert.equal(status?.weightsVersion, 2n);
  } finally {
    learner.close();
  }
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout) as { stoppedBy: string; transport: string };
  assert.equal(result.stoppedBy, 'SIGINT');
  assert.equal(result.transport, 'memory');
  assert.doesNotMatch(stderr, /stopping nats-server/);
});
