// The one reward-hacking monitor (@verdict/rl), driven by the learner: a planted series (the judge's
// score on the step's rollouts rises, held-out accuracy falls) must alarm, and a learner that dies
// mid-window — once right after a checkpoint (before the step's finish phase), once in the middle of
// training — and is resumed must give every step the verdict an uninterrupted monitor gives it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { commonV1, rolloutV1 } from '@verdict/proto';
import { createRewardHackingMonitor, loadTrainingCheckpoint, type RewardHackingVerdict } from '@verdict/rl';
import { connectNats, type Messaging, silentLogger } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import {
  createLearnerApp,
  type LearnerApp,
  loadLearnerConfig,
  parseRunConfig,
  type StepMetricsRecord,
  type TrainStep,
  type ValidRunConfig,
} from '../src/index.js';
import { learnerMonitorOptions } from '../src/run/monitor-options.js';
import { createPolicyTrainer } from '../src/training/policy-trainer.js';
import { writeToyStudent } from './helpers.js';

const STEPS = 16;
/** The planted series: the judge likes the policy more each step, held-out accuracy falls. */
const judgeScoreAt = (step: number) => 0.3 + 0.03 * step;
const heldOutAt = (step: number) => 0.6 - 0.03 * step;

let nats: NatsServerHandle;
let student: { dir: string; cleanup: () => void };
let runsDir: string;
let m: Messaging;
const stopResponder = new AbortController();
let responder: Promise<unknown>;

before(async () => {
  nats = await startNatsServer();
  student = writeToyStudent();
  runsDir = mkdtempSync(join(tmpdir(), 'verdict-learner-monitor-'));
  m = await connectNats({ servers: nats.url, name: 'monitor-fake-stack' });
  await m.ensureStream({
    name: 'VERDICT_ROLLOUTS',
    subjects: ['verdict.rollout.>'],
    duplicateWindowMs: 120_000,
  });
  await m.ensureConsumer({
    stream: 'VERDICT_ROLLOUTS',
    name: 'fake',
    filterSubject: 'verdict.rollout.requested',
  });
  // Policy-server + reward-service stand-in: group members alternate right/wrong (so GRPO has a
  // signal); every sample of step s gets the judge score judgeScoreAt(s).
  responder = m.consume({
    stream: 'VERDICT_ROLLOUTS',
    consumer: 'fake',
    concurrency: 16,
    signal: stopResponder.signal,
    handler: async (msg): Promise<'ack'> => {
      const req = rolloutV1.RolloutRequested.decode(msg.data);
      const ok = commonV1.RewardStatus.REWARD_STATUS_OK;
      const right = req.groupIndex % 2;
      const completion = [5 + req.groupIndex, 9, 2];
      const scored = rolloutV1.RolloutScored.fromPartial({
        generated: {
          request: req,
          promptTokenIds: req.promptTokenIds,
          completionTokenIds: completion,
          logprobs: completion.map(() => -3),
          completionText: 'x',
          policyVersion: req.policyVersionWanted,
          generatorId: 'fake',
        },
        reward: {
          status: ok,
          total: right,
          components: {
            verifiable: { status: ok, value: right },
            judge: { status: ok, value: judgeScoreAt(Number(req.step)) },
          },
        },
      });
      await m.publish('verdict.rollout.scored', rolloutV1.RolloutScored.encode(scored).finish(), {
        msgId: `${req.rolloutId}:scored`,
      });
      return 'ack';
    },
  });
});

after(async () => {
  stopResponder.abort();
  await responder;
  await m.close();
  await nats.stop();
  student.cleanup();
  rmSync(runsDir, { recursive: true, force: true });
});

function runConfig(): ValidRunConfig {
  return parseRunConfig({
    runId: 'monitor-run',
    student: { checkpointUri: student.dir, modelId: 'toy-student' },
    judge: { modelId: 'toy-judge' },
    dataMix: [{ name: 'toy', limit: 40 }],
    labeledRatio: { labeled: 1, unlabeled: 0 },
    reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
    promptsPerStep: 2,
    groupSize: 2,
    learningRate: 1e-3,
    rolloutSampling: { temperature: 1, maxNewTokens: 4 },
    evalEverySteps: 1,
    evalSuites: ['toy'],
    maxSteps: STEPS,
    seed: 3,
    stepTimeoutMs: 60_000,
  });
}

/** A real trainer whose `weights()` (after the checkpoint) or `train()` (before it) throws at one step. */
function crashingTrainer(crash: { at: number; where: 'after-checkpoint' | 'mid-train' } | undefined) {
  return (run: ValidRunConfig, resume: { dir: string } | undefined): TrainStep => {
    const ckpt = resume ? loadTrainingCheckpoint(resume.dir) : undefined;
    const real = createPolicyTrainer({
      run,
      ...(ckpt
        ? { resume: { params: ckpt.params, ...(ckpt.optimizer ? { optimizer: ckpt.optimizer } : {}) } }
        : {}),
    });
    let trained = (ckpt?.extra?.['learner'] as { step: number } | undefined)?.step ?? 0;
    return {
      modelConfig: real.modelConfig,
      async train(minibatches, epochs) {
        trained++;
        if (crash?.where === 'mid-train' && trained === crash.at)
          throw new Error(`planted crash in step ${trained}`);
        return real.train(minibatches, epochs);
      },
      save: (dir, extra) => real.save(dir, extra),
      weights() {
        if (crash?.where === 'after-checkpoint' && trained === crash.at) {
          throw new Error(`planted crash after the checkpoint of step ${trained}`);
        }
        return real.weights();
      },
      close: () => real.close(),
    };
  };
}

function newApp(crash: Parameters<typeof crashingTrainer>[0]): LearnerApp {
  let app: LearnerApp;
  // Held-out accuracy of the weights the step just produced (the evaluator stand-in).
  const evaluate = async () => {
    const step = app.runs?.activeRun?.status().step ?? 0;
    return [{ suite: 'toy', n: 200, greedyAccuracy: heldOutAt(step), policyVersion: step }];
  };
  app = createLearnerApp(
    loadLearnerConfig({
      NATS_URL: nats.url,
      LEARNER_PORT: '0',
      LEARNER_HOST: '127.0.0.1',
      LEARNER_RUNS_DIR: runsDir,
    }),
    { logger: silentLogger, telemetry: false, evaluate, createTrainer: crashingTrainer(crash) },
  );
  return app;
}

async function runUntilEnd(crash: Parameters<typeof crashingTrainer>[0], resume: boolean) {
  const app = newApp(crash);
  await app.start();
  try {
    const run = app.startRun(runConfig(), resume);
    await run.done;
    return run.status();
  } finally {
    await app.stop();
  }
}

test('the learner’s monitor alarms on a planted series, with the same verdicts across two crashes and resumes', async () => {
  // What an uninterrupted monitor says of the planted series, step by step.
  const reference = createRewardHackingMonitor(learnerMonitorOptions());
  const expected = new Map<number, RewardHackingVerdict>();
  for (let s = 1; s <= STEPS; s++) {
    // The fake judge gives every sample judgeScoreAt(s); gold agreement is constant (right/wrong alternate).
    expected.set(
      s,
      reference.observe({
        step: s,
        judgeReward: judgeScoreAt(s),
        agreement: 0.5,
        heldOutAccuracy: heldOutAt(s),
      }),
    );
  }
  const alarmStep = reference.firstAlarmStep;
  assert.ok(
    alarmStep !== null && alarmStep > 8 && alarmStep < STEPS,
    `planted series alarms at ${alarmStep}`,
  );

  const first = await runUntilEnd({ at: 5, where: 'after-checkpoint' }, false);
  assert.equal(first.state, 'FAILED');
  assert.match(first.message, /planted crash after the checkpoint of step 5/);
  const second = await runUntilEnd({ at: 8, where: 'mid-train' }, true);
  assert.equal(second.state, 'FAILED');
  assert.equal(second.step, 7, 'step 8 died before its checkpoint');
  const third = await runUntilEnd(undefined, true);
  assert.equal(third.state, 'COMPLETED', third.message);

  // The metrics lines as a reader takes them (the last line of a step wins).
  const byStep = new Map<number, StepMetricsRecord>();
  for (const line of readFileSync(join(runsDir, 'monitor-run', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')) {
    const rec = JSON.parse(line) as StepMetricsRecord;
    byStep.set(rec.step, rec);
  }
  assert.deepEqual(
    [...byStep.keys()],
    Array.from({ length: STEPS }, (_, i) => i + 1),
  );
  for (const [step, want] of expected) {
    const got = byStep.get(step)!;
    assert.ok(
      Math.abs((got.reward.judgeMean ?? Number.NaN) - judgeScoreAt(step)) < 1e-9,
      `step ${step} judge mean`,
    );
    assert.deepEqual(
      got.hacking,
      {
        suspect: want.suspect,
        alarm: want.alarm,
        firstAlarmStep: want.firstAlarmStep,
        ...(want.reason !== undefined ? { reason: want.reason } : {}),
      },
      `step ${step}`,
    );
    assert.equal(got.judgeHackingSuspected, step >= alarmStep);
  }
});
