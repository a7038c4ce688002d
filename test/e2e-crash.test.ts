import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { policyServerEnv, rewardServiceEnv, startStack } from '@verdict/cli/stack';
import { parseRunConfig } from '@verdict/learner';
import { rolloutV1 } from '@verdict/proto';
import { connectNats } from '@verdict/runtime';
import { startNatsServer } from '@verdict/runtime/testing';
import { countStored } from './support/audit.js';
import { type ChildService, startChildService } from './support/child-service.js';
import { toyStackOptions } from './support/stack.js';
import { writeToyJudge, writeToyStudent } from './support/toy-models.js';

const STEPS = 3;
const PROMPTS = 3;
const G = 4;
const PER_STEP = PROMPTS * G;
const TOTAL = STEPS * PER_STEP;

/**
 * One run of 3 GRPO steps in which `victim` (a child process) is SIGKILLed at the first step-2
 * message it produced and restarted: the run must complete with every rollout id stored once per
 * stage and consumed once by the learner.
 */
async function crashRun(t: TestContext, victim: 'reward-service' | 'policy-server'): Promise<void> {
  const nats = await startNatsServer();
  const student = writeToyStudent();
  const judge = writeToyJudge();
  const work = mkdtempSync(join(tmpdir(), `verdict-crash-${victim}-`));
  const options = toyStackOptions({
    natsUrl: nats.url,
    studentDir: student.dir,
    judgeDir: judge.dir,
    workDir: work,
    skip: victim === 'reward-service' ? ['reward-service', 'evaluator'] : ['evaluator'],
  });
  const stack = await startStack(options);
  const m = await connectNats({ servers: nats.url, name: 'crash-audit' });
  // Short ack waits so the dead child's unacked messages come back quickly.
  const childEnv =
    victim === 'reward-service'
      ? {
          ...rewardServiceEnv(options, stack.addresses['judge-server']!),
          REWARD_ACK_WAIT: '2s',
          REWARD_CONCURRENCY: '1',
        }
      : { ...policyServerEnv(options, 0), POLICY_INSTANCE_ID: 'policy-child', POLICY_ROLLOUT_ACK_WAIT: '2s' };
  let child: ChildService = startChildService(victim, childEnv);
  await child.address;
  let killed = false;
  let scoredStep2AtKill = -1;
  let scoredStep2 = 0;
  let restarted: Promise<unknown> = Promise.resolve();
  // Core subscriptions see every publish on the stream subjects as it happens.
  const watchSubject = victim === 'reward-service' ? 'verdict.rollout.scored' : 'verdict.rollout.generated';
  const scoredSub = m.connection.subscribe('verdict.rollout.scored', {
    callback: (_e, msg) => {
      const id = rolloutV1.RolloutScored.decode(msg.data).generated?.request?.rolloutId ?? '';
      if (id.includes('.s2.')) scoredStep2++;
    },
  });
  const sub = m.connection.subscribe(watchSubject, {
    callback: (_e, msg) => {
      if (killed) return;
      const generated =
        victim === 'reward-service'
          ? rolloutV1.RolloutScored.decode(msg.data).generated
          : rolloutV1.RolloutGenerated.decode(msg.data);
      if (!generated?.request?.rolloutId.includes('.s2.')) return;
      if (victim === 'policy-server' && generated.generatorId !== 'policy-child') return;
      killed = true;
      scoredStep2AtKill = scoredStep2;
      child.proc.kill('SIGKILL');
      restarted = child.exited.then(async () => {
        await new Promise((r) => setTimeout(r, 500));
        child = startChildService(victim, childEnv);
        await child.address;
      });
    },
  });
  try {
    const run = stack.learner!.startRun(
      parseRunConfig({
        runId: `crash-${victim}`,
        student: { checkpointUri: student.dir, modelId: 'toy-student' },
        judge: { modelId: 'toy-judge' },
        dataMix: [{ name: 'toy', limit: 64 }],
        labeledRatio: { labeled: 1, unlabeled: 1 },
        dataSeed: 9,
        reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
        promptsPerStep: PROMPTS,
        groupSize: G,
        learningRate: 1e-2,
        rolloutSampling: { temperature: 1, maxNewTokens: 12 },
        maxSteps: STEPS,
        seed: 2,
        stepTimeoutMs: 120_000,
      }),
      false,
    );
    await run.done;
    await restarted;
    const status = run.status();
    assert.equal(status.state, 'COMPLETED', status.message);
    assert.equal(status.weightsVersion, STEPS);
    assert.ok(killed, `${victim} was never killed`);
    // The kill landed inside step 2: its batch was not complete yet.
    assert.ok(scoredStep2AtKill < PER_STEP, `scored of step 2 at the kill: ${scoredStep2AtKill}`);
    const metrics = run.metricsFrom(0);
    const counted = metrics.reduce(
      (a, s) => a + s.masked.ok + s.masked.abstain + s.masked.timeout + s.masked.error + s.masked.stale,
      0,
    );
    assert.equal(counted, TOTAL, 'every sample counted once in the metrics');
    t.diagnostic(
      `${victim} SIGKILLed with ${scoredStep2AtKill}/${PER_STEP} of step 2 scored; step 2 waited ` +
        `${metrics[1]!.timings.rolloutWaitMs.toFixed(0)} ms; masked ${JSON.stringify(metrics.map((s) => s.masked))}`,
    );

    const key = {
      requested: (d: Uint8Array) => rolloutV1.RolloutRequested.decode(d).rolloutId,
      generated: (d: Uint8Array) => rolloutV1.RolloutGenerated.decode(d).request?.rolloutId ?? '?',
      scored: (d: Uint8Array) => rolloutV1.RolloutScored.decode(d).generated?.request?.rolloutId ?? '?',
    };
    const requested = await countStored(m, 'VERDICT_ROLLOUTS', 'verdict.rollout.requested', key.requested, {
      expected: TOTAL,
    });
    assert.equal(requested.size, TOTAL);
    for (const stage of ['generated', 'scored'] as const) {
      const counts = await countStored(m, 'VERDICT_ROLLOUTS', `verdict.rollout.${stage}`, key[stage], {
        expected: TOTAL,
      });
      assert.deepEqual([...counts.keys()].sort(), [...requested.keys()].sort(), `${stage}: no rollout lost`);
      for (const [id, n] of counts) assert.equal(n, 1, `${stage} ${id} stored ${n} times`);
    }
    const state = JSON.parse(
      readFileSync(
        join(work, 'runs', `crash-${victim}`, 'checkpoints', 'step-000003', 'trainer_state.json'),
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
    scoredSub.unsubscribe();
    if (child.proc.exitCode === null) {
      child.proc.kill('SIGTERM');
      await child.exited;
    }
    await m.close();
    await stack.stop();
    await nats.stop();
    student.cleanup();
    judge.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

test('SIGKILL the reward-service in the middle of step 2: the run completes, nothing lost or double-counted', (t) =>
  crashRun(t, 'reward-service'));

test('SIGKILL one policy-server replica in the middle of step 2: the run completes, nothing lost or double-counted', (t) =>
  crashRun(t, 'policy-server'));
