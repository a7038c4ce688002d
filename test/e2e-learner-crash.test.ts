import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { learnerEnv, startStack } from '@verdict/cli/stack';
import { learnerV1, rolloutV1 } from '@verdict/proto';
import { connectNats, createGrpcClient } from '@verdict/runtime';
import { startNatsServer } from '@verdict/runtime/testing';
import { countStored } from './support/audit.js';
import { type ChildService, startChildService } from './support/child-service.js';
import { toyStackOptions } from './support/stack.js';
import { writeToyJudge, writeToyStudent } from './support/toy-models.js';

const STEPS = 3;
const PER_STEP = 3 * 4;
const TOTAL = STEPS * PER_STEP;

test('SIGKILL the learner in the middle of step 2: the restarted learner resumes from its checkpoint and completes, nothing lost or double-counted', async (t) => {
  const nats = await startNatsServer();
  const student = writeToyStudent();
  const judge = writeToyJudge();
  const work = mkdtempSync(join(tmpdir(), 'verdict-learner-crash-'));
  const options = toyStackOptions({
    natsUrl: nats.url,
    studentDir: student.dir,
    judgeDir: judge.dir,
    workDir: work,
    skip: ['evaluator', 'learner'],
  });
  const stack = await startStack(options);
  const m = await connectNats({ servers: nats.url, name: 'learner-crash-audit' });
  const runConfigPath = join(work, 'run.json');
  writeFileSync(
    runConfigPath,
    JSON.stringify({
      runId: 'crash-learner',
      student: { checkpointUri: student.dir },
      judge: { modelId: 'toy-judge' },
      dataMix: [{ name: 'toy', limit: 64 }],
      labeledRatio: { labeled: 1, unlabeled: 1 },
      dataSeed: 4,
      reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
      promptsPerStep: 3,
      groupSize: 4,
      learningRate: 0.01,
      rolloutSampling: { temperature: 1, maxNewTokens: 12 },
      maxSteps: STEPS,
      stepTimeoutMs: 120_000,
    }),
  );
  // The run starts at boot from the file and resumes from its latest checkpoint after a restart;
  // a short ack wait brings the killed learner's unacked scored rollouts back quickly.
  const env = { ...learnerEnv(options), LEARNER_RUN_CONFIG: runConfigPath, LEARNER_ACK_WAIT: '2s' };
  let learner: ChildService = startChildService('learner', env);
  let scoredStep2AtKill = -1;
  let scoredStep2 = 0;
  let killed: Promise<void> | undefined;
  const sub = m.connection.subscribe('verdict.rollout.scored', {
    callback: (_e, msg) => {
      const id = rolloutV1.RolloutScored.decode(msg.data).generated?.request?.rolloutId ?? '';
      if (!id.includes('.s2.')) return;
      scoredStep2++;
      if (killed !== undefined) return;
      scoredStep2AtKill = scoredStep2;
      learner.proc.kill('SIGKILL');
      killed = learner.exited.then(() => undefined);
    },
  });
  try {
    await learner.address;
    const deadline = Date.now() + 120_000;
    while (killed === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(killed, 'the learner never reached step 2');
    await killed;
    learner = startChildService('learner', env);
    const client = createGrpcClient(learnerV1.LearnerServiceClient, await learner.address, {
      defaultDeadlineMs: 10_000,
    });
    try {
      let status: learnerV1.RunStatus | undefined;
      while (Date.now() < deadline) {
        status = (await client.unary('getRunStatus', { runId: 'crash-learner' })).status;
        if (status && status.state >= learnerV1.RunState.RUN_STATE_STOPPED) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(
        status?.state,
        learnerV1.RunState.RUN_STATE_COMPLETED,
        `${status?.message}\n${learner.stderr()}`,
      );
      assert.equal(status?.weightsVersion, BigInt(STEPS));
      const steps: learnerV1.StepMetrics[] = [];
      for await (const r of client.serverStream('streamMetrics', { runId: 'crash-learner', fromStep: 0n })) {
        if (r.metrics) steps.push(r.metrics);
      }
      assert.deepEqual(
        steps.map((s) => Number(s.step)),
        [1, 2, 3],
      );
      const counted = steps.reduce((a, s) => {
        const k = s.masked!;
        return a + Number(k.ok + k.abstain + k.timeout + k.error + k.stale);
      }, 0);
      assert.equal(counted, TOTAL, 'every sample counted once across the crash');
      t.diagnostic(
        `learner SIGKILLed with ${scoredStep2AtKill}/${PER_STEP} of step 2 scored; after the restart step 2 waited ` +
          `${steps[1]!.timings!.rolloutWaitMs.toFixed(0)} ms`,
      );
    } finally {
      client.close();
    }
    assert.ok(scoredStep2AtKill < PER_STEP, 'the kill landed inside step 2');

    const requested = await countStored(
      m,
      'VERDICT_ROLLOUTS',
      'verdict.rollout.requested',
      (d) => rolloutV1.RolloutRequested.decode(d).rolloutId,
      { expected: TOTAL },
    );
    assert.equal(requested.size, TOTAL);
    for (const [id, n] of requested)
      assert.equal(n, 1, `requested ${id} stored ${n} times (resume re-asks the same ids)`);
    const state = JSON.parse(
      readFileSync(
        join(work, 'runs', 'crash-learner', 'checkpoints', 'step-000003', 'trainer_state.json'),
        'utf8',
      ),
    ) as { extra: { learner: { seenIds: string[] } } };
    assert.deepEqual(
      [...state.extra.learner.seenIds].sort(),
      [...requested.keys()].sort(),
      'consumed once each',
    );
  } finally {
    sub.unsubscribe();
    if (learner.proc.exitCode === null) {
      learner.proc.kill('SIGTERM');
      await learner.exited;
    }
    await m.close();
    await stack.stop();
    await nats.stop();
    student.cleanup();
    judge.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
});
