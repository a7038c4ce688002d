import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readSafetensors } from '@verdict/models';
import { commonV1, learnerV1, type rewardV1, rolloutV1, weightsV1 } from '@verdict/proto';
import { connectNats, createGrpcClient, type Messaging, sha256Hex, silentLogger } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import {
  createLearnerApp,
  type LearnerApp,
  loadLearnerConfig,
  parseRunConfig,
  WEIGHTS_BUCKET,
} from '../src/index.js';
import { writeToyStudent } from './helpers.js';

let nats: NatsServerHandle;
let student: { dir: string; cleanup: () => void };
let runsDir: string;
let m: Messaging;
const stopResponder = new AbortController();
let responder: Promise<unknown>;
/** Scored messages published per rollout id (the fake stack publishes some twice). */
const published = new Map<string, number>();
const requested = new Map<string, number>();
/** The reward weights each request carried, by rollout id. */
const requestWeights = new Map<string, rewardV1.RewardWeights | undefined>();
const announcements: weightsV1.WeightsPublished[] = [];

before(async () => {
  nats = await startNatsServer();
  student = writeToyStudent();
  runsDir = mkdtempSync(join(tmpdir(), 'verdict-learner-runs-'));
  m = await connectNats({ servers: nats.url, name: 'fake-stack' });
  await m.ensureStream({
    name: 'VERDICT_ROLLOUTS',
    subjects: ['verdict.rollout.>'],
    duplicateWindowMs: 120_000,
  });
  await m.ensureStream({
    name: 'VERDICT_WEIGHTS',
    subjects: ['verdict.weights.>'],
    duplicateWindowMs: 120_000,
  });
  await m.ensureConsumer({
    stream: 'VERDICT_ROLLOUTS',
    name: 'fake',
    filterSubject: 'verdict.rollout.requested',
  });
  await m.ensureConsumer({
    stream: 'VERDICT_WEIGHTS',
    name: 'watch',
    filterSubject: 'verdict.weights.published',
  });
  // Stands in for policy-server + reward-service: one scored rollout per request, every third
  // one twice (a redelivery the learner must not count), and one TIMEOUT per group of step 2.
  responder = Promise.all([
    m.consume({
      stream: 'VERDICT_ROLLOUTS',
      consumer: 'fake',
      concurrency: 16,
      signal: stopResponder.signal,
      handler: async (msg): Promise<'ack'> => {
        const req = rolloutV1.RolloutRequested.decode(msg.data);
        requested.set(req.rolloutId, (requested.get(req.rolloutId) ?? 0) + 1);
        requestWeights.set(req.rolloutId, req.reward?.weights);
        const completion = [5 + req.groupIndex, 9, 2];
        const timeout = Number(req.step) === 2 && req.groupIndex === 0;
        const scored = rolloutV1.RolloutScored.encode(
          rolloutV1.RolloutScored.fromPartial({
            generated: {
              request: req,
              promptTokenIds: req.promptTokenIds,
              completionTokenIds: completion,
              logprobs: completion.map(() => -6),
              completionText: 'x',
              policyVersion: req.policyVersionWanted,
              generatorId: 'fake',
            },
            reward: {
              status: timeout
                ? commonV1.RewardStatus.REWARD_STATUS_TIMEOUT
                : commonV1.RewardStatus.REWARD_STATUS_OK,
              total: req.groupIndex % 2,
              components: {
                verifiable: { status: commonV1.RewardStatus.REWARD_STATUS_OK, value: req.groupIndex % 2 },
                judge: {
                  status: commonV1.RewardStatus.REWARD_STATUS_OK,
                  value: req.groupIndex % 2 ? 0.9 : 0.2,
                },
                judgeDetail: { score: 0.5, pYesFull: 0.4, otherMass: 0.1 },
              },
            },
          }),
        ).finish();
        const copies = req.groupIndex === 2 ? 2 : 1;
        for (let c = 0; c < copies; c++) {
          await m.publish('verdict.rollout.scored', scored, { msgId: `${req.rolloutId}:scored:${c}` });
          published.set(req.rolloutId, (published.get(req.rolloutId) ?? 0) + 1);
        }
        return 'ack';
      },
    }),
    m.consume({
      stream: 'VERDICT_WEIGHTS',
      consumer: 'watch',
      signal: stopResponder.signal,
      handler: (msg) => {
        announcements.push(weightsV1.WeightsPublished.decode(msg.data));
        return 'ack';
      },
    }),
  ]);
});

after(async () => {
  stopResponder.abort();
  await responder;
  await m.close();
  await nats.stop();
  student.cleanup();
  rmSync(runsDir, { recursive: true, force: true });
});

function runConfig(maxSteps: number) {
  return parseRunConfig({
    runId: 'toy-run',
    student: { checkpointUri: student.dir, modelId: 'toy-student' },
    judge: { modelId: 'toy-judge' },
    dataMix: [{ name: 'toy', limit: 40 }],
    labeledRatio: { labeled: 1, unlabeled: 1 },
    dataSeed: 5,
    reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
    promptsPerStep: 2,
    groupSize: 3,
    microBatchSize: 3,
    learningRate: 1e-2,
    klCoef: 0.05,
    rolloutSampling: { temperature: 1, maxNewTokens: 8 },
    maxSteps,
    seed: 11,
    stepTimeoutMs: 60_000,
  });
}

function newApp(): LearnerApp {
  return createLearnerApp(
    loadLearnerConfig({
      NATS_URL: nats.url,
      LEARNER_PORT: '0',
      LEARNER_HOST: '127.0.0.1',
      LEARNER_RUNS_DIR: runsDir,
    }),
    { logger: silentLogger, telemetry: false },
  );
}

test('two GRPO steps over NATS, then a new learner resumes from the checkpoint for the third', async () => {
  const app = newApp();
  const { address } = await app.start();
  const client = createGrpcClient(learnerV1.LearnerServiceClient, address, { defaultDeadlineMs: 120_000 });
  try {
    const wire = runConfig(2);
    const started = await client.unary('startRun', { config: wire, resume: false });
    assert.equal(started.status?.runId, 'toy-run');
    const steps: learnerV1.StepMetrics[] = [];
    for await (const r of client.serverStream('streamMetrics', { runId: 'toy-run', fromStep: 0n })) {
      if (r.metrics) steps.push(r.metrics);
    }
    const status = await client.unary('getRunStatus', { runId: 'toy-run' });
    assert.deepEqual(
      steps.map((s) => Number(s.step)),
      [1, 2],
      status.status?.message,
    );
    assert.equal(status.status?.state, learnerV1.RunState.RUN_STATE_COMPLETED);
    assert.equal(status.status?.weightsVersion, 2n);
    const s2 = steps[1]!;
    // Every listed metric is present: reward terms separately, KL, entropy, length, agreement,
    // mismatch KL, masked counts by status, timings.
    assert.ok(s2.reward && s2.reward.verifiableMean !== undefined && s2.reward.judgeMean !== undefined);
    assert.ok(s2.reward.judgePYesFullMean !== undefined && s2.reward.judgeOtherMassMean !== undefined);
    assert.ok(s2.kl >= 0 && Number.isFinite(s2.kl));
    assert.ok(s2.entropy > 0, `entropy ${s2.entropy}`);
    assert.equal(s2.responseLengthMean, 3);
    assert.ok(s2.judgeGoldAgreement !== undefined);
    assert.ok(s2.mismatchKl > 0, 'rollout logprobs of −6 differ from the model: mismatch must show');
    assert.deepEqual(s2.masked, { ok: 4n, abstain: 0n, timeout: 2n, error: 0n, stale: 0n });
    assert.ok(s2.timings && s2.timings.totalMs > 0 && s2.timings.trainMs > 0);
    assert.equal(s2.weightsVersion, 2n);
    // Step 1 trained the policy, so step 2's KL to the frozen reference is positive.
    assert.ok(s2.kl > 0, `kl ${s2.kl}`);
    const lines = readFileSync(join(runsDir, 'toy-run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(lines.length, 2);
  } finally {
    client.close();
    await app.stop();
  }

  // Weights: each version in the Object Store with the announced checksum.
  const v2 = announcements.find((a) => a.version === 2n);
  assert.ok(v2, `announced: ${announcements.map((a) => a.version)}`);
  const bytes = await m.getBlob(WEIGHTS_BUCKET, v2.objectName);
  assert.equal(sha256Hex(bytes), v2.sha256);
  // The checkpoint of step 2 is gone (only the latest is kept): compare against the announced hash only.
  assert.equal(Number(v2.sizeBytes), bytes.length);

  // A new learner (as after a crash) resumes at step 3 and asks no rollout of steps 1–2 again.
  const before = new Map(requested);
  const app2 = newApp();
  await app2.start();
  try {
    const run = app2.startRun(runConfig(3), true);
    await run.done;
    const st = run.status();
    assert.equal(st.state, 'COMPLETED', st.message);
    assert.equal(st.step, 3);
    assert.equal(st.weightsVersion, 3);
    assert.deepEqual(
      run.metricsFrom(0).map((x) => x.step),
      [1, 2, 3],
    );
  } finally {
    await app2.stop();
  }
  for (const [id, n] of requested) {
    if (!id.includes('.s3.')) assert.equal(n, before.get(id), `re-requested ${id}`);
  }
  assert.equal(requested.size, 3 * 2 * 3);
  // Every rollout published twice was consumed once: checkpoints list each id once.
  const state = JSON.parse(
    readFileSync(join(runsDir, 'toy-run', 'checkpoints', 'step-000003', 'trainer_state.json'), 'utf8'),
  ) as { extra: { learner: { seenIds: string[] } } };
  assert.equal(state.extra.learner.seenIds.length, 18);
  assert.equal(new Set(state.extra.learner.seenIds).size, 18);
  assert.ok(existsSync(join(runsDir, 'toy-run', 'run-config.json')));
});

test('PPO: value head, GAE over KL-shaped token rewards, clipped value loss; checkpoint holds the value head', async () => {
  const app = newApp();
  await app.start();
  try {
    const run = app.startRun(
      parseRunConfig({
        runId: 'toy-ppo',
        student: { checkpointUri: student.dir },
        judge: { modelId: 'toy-judge' },
        dataMix: [{ name: 'toy', limit: 40 }],
        labeledRatio: { labeled: 1, unlabeled: 1 },
        dataSeed: 6,
        reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
        algorithm: 'ALGORITHM_PPO',
        promptsPerStep: 2,
        groupSize: 2,
        epochsPerStep: 2,
        learningRate: 1e-2,
        klCoef: 0.1,
        gamma: 1,
        gaeLambda: 0.95,
        rolloutSampling: { temperature: 1, maxNewTokens: 8 },
        maxSteps: 2,
        stepTimeoutMs: 60_000,
      }),
      false,
    );
    await run.done;
    assert.equal(run.status().state, 'COMPLETED', run.status().message);
    const [s1, s2] = run.metricsFrom(0);
    assert.ok(s1 && s2);
    for (const s of [s1, s2]) {
      assert.ok(
        s.valueLoss !== undefined && Number.isFinite(s.valueLoss) && s.valueLoss > 0,
        `vf ${s.valueLoss}`,
      );
      assert.ok(Number.isFinite(s.policyLoss) && s.gradNorm > 0);
    }
    // Two epochs per step: the second sees ratios ≠ 1, and step 2 starts away from the reference.
    assert.ok(s2.kl > 0, `kl ${s2.kl}`);
    assert.equal(s2.masked.timeout, 2, 'group index 0 of step 2 is TIMEOUT in the stand-in: masked');
    assert.equal(s2.samplesUsed, 2);
    // The zero-initialised value head has learned something.
    const head = readSafetensors(
      join(runsDir, 'toy-ppo', 'checkpoints', 'step-000002', 'value_head.safetensors'),
    );
    assert.ok(
      [...(head.get('v_head.weight')?.data ?? [])].some((x) => x !== 0),
      'value head trained',
    );
  } finally {
    await app.stop();
  }
});

test('afterStep hook: awaited before the next step is requested; it can stop the run', async () => {
  const seen: { step: number; version: number; nextRequested: number }[] = [];
  const nextStepRequests = (step: number) =>
    [...requested.keys()].filter((id) => id.startsWith(`hook-run.s${step + 1}.`)).length;
  const app = createLearnerApp(
    loadLearnerConfig({
      NATS_URL: nats.url,
      LEARNER_PORT: '0',
      LEARNER_HOST: '127.0.0.1',
      LEARNER_RUNS_DIR: runsDir,
    }),
    {
      logger: silentLogger,
      telemetry: false,
      afterStep: async (info) => {
        // Hold the loop a while: the next step's requests must wait for the hook.
        await new Promise((r) => setTimeout(r, 300));
        seen.push({
          step: info.step,
          version: info.weightsVersion,
          nextRequested: nextStepRequests(info.step),
        });
        assert.equal(info.metrics.step, info.step);
        // Lowering μ on an alarm: the next step's requests carry the new weights.
        if (info.step === 1) info.run.setRewardWeights({ lambdaVr: 0.8, muJudge: 0.2, rhoRerank: 0 });
        if (info.step === 2) info.run.requestStop('hook says stop');
      },
    },
  );
  await app.start();
  try {
    const run = app.startRun(
      parseRunConfig({
        runId: 'hook-run',
        student: { checkpointUri: student.dir },
        judge: { modelId: 'toy-judge' },
        dataMix: [{ name: 'toy', limit: 20 }],
        dataSeed: 7,
        promptsPerStep: 1,
        groupSize: 2,
        rolloutSampling: { temperature: 1, maxNewTokens: 8 },
        maxSteps: 5,
        stepTimeoutMs: 60_000,
      }),
      false,
    );
    await run.done;
    assert.deepEqual(
      seen.map((s) => [s.step, s.version, s.nextRequested]),
      [
        [1, 1, 0],
        [2, 2, 0],
      ],
    );
    const status = run.status();
    assert.equal(status.state, 'STOPPED');
    assert.equal(status.step, 2);
    assert.equal(status.message, 'hook says stop');
    assert.equal(nextStepRequests(2), 0, 'no step 3 was requested');
    // Each request carries the run's reward config: the config's weights, then the hook's.
    assert.deepEqual(requestWeights.get('hook-run.s1.q0.g0'), { lambdaVr: 1, muJudge: 0, rhoRerank: 0 });
    assert.deepEqual(requestWeights.get('hook-run.s2.q0.g1'), { lambdaVr: 0.8, muJudge: 0.2, rhoRerank: 0 });
  } finally {
    await app.stop();
  }
});
