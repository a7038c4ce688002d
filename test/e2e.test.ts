import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Stack, startStack } from '@verdict/cli/stack';
import { parseRunConfig, type StepMetricsRecord } from '@verdict/learner';
import { learnerV1, policyV1, rolloutV1 } from '@verdict/proto';
import { connectNats, createGrpcClient, type Messaging } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import { countStored } from './support/audit.js';
import { toyStackOptions } from './support/stack.js';
import { writeToyJudge, writeToyStudent } from './support/toy-models.js';

const STEPS = 3;
const PROMPTS = 2;
const G = 4;
const TOTAL = STEPS * PROMPTS * G;

let nats: NatsServerHandle;
let student: { dir: string; cleanup: () => void };
let judge: { dir: string; cleanup: () => void };
let work: string;
let stack: Stack;
let m: Messaging;

before(async () => {
  nats = await startNatsServer();
  student = writeToyStudent();
  judge = writeToyJudge();
  work = mkdtempSync(join(tmpdir(), 'verdict-e2e-'));
  stack = await startStack(
    toyStackOptions({
      natsUrl: nats.url,
      studentDir: student.dir,
      judgeDir: judge.dir,
      workDir: work,
      policyReplicas: 2,
    }),
  );
  m = await connectNats({ servers: nats.url, name: 'e2e-audit' });
});

after(async () => {
  await m?.close();
  await stack?.stop();
  await nats?.stop();
  student?.cleanup();
  judge?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

function runConfig() {
  return parseRunConfig({
    runId: 'e2e-grpo',
    student: { checkpointUri: student.dir, modelId: 'toy-student' },
    judge: { modelId: 'toy-judge' },
    dataMix: [{ name: 'toy', limit: 64 }],
    labeledRatio: { labeled: 1, unlabeled: 1 },
    dataSeed: 7,
    reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
    algorithm: 'ALGORITHM_GRPO',
    promptsPerStep: PROMPTS,
    groupSize: G,
    microBatchSize: 4,
    learningRate: 1e-2,
    klCoef: 0.05,
    rolloutSampling: { temperature: 1, maxNewTokens: 12 },
    maxSteps: STEPS,
    evalEverySteps: STEPS,
    evalSuites: ['toy-id'],
    seed: 1,
    stepTimeoutMs: 120_000,
  });
}

const requestedId = (d: Uint8Array) => rolloutV1.RolloutRequested.decode(d).rolloutId;
const generatedId = (d: Uint8Array) => rolloutV1.RolloutGenerated.decode(d).request?.rolloutId ?? '?';
const scoredId = (d: Uint8Array) => rolloutV1.RolloutScored.decode(d).generated?.request?.rolloutId ?? '?';

test(`${STEPS} GRPO steps across the five services with two policy-server replicas`, async (t) => {
  const learner = createGrpcClient(learnerV1.LearnerServiceClient, stack.addresses['learner']!, {
    defaultDeadlineMs: 300_000,
  });
  try {
    await learner.unary('startRun', { config: runConfig(), resume: false });
    const steps: learnerV1.StepMetrics[] = [];
    for await (const r of learner.serverStream('streamMetrics', { runId: 'e2e-grpo', fromStep: 0n })) {
      if (r.metrics) steps.push(r.metrics);
    }
    const status = (await learner.unary('getRunStatus', { runId: 'e2e-grpo' })).status;
    assert.equal(status?.state, learnerV1.RunState.RUN_STATE_COMPLETED, status?.message);
    assert.deepEqual(
      steps.map((s) => Number(s.step)),
      [1, 2, 3],
    );
    assert.equal(status?.weightsVersion, BigInt(STEPS));

    // The learner's metrics hold every item of the acceptance list, every step.
    for (const s of steps) {
      const r = s.reward!;
      assert.ok(Number.isFinite(r.totalMean) && Number.isFinite(r.totalStd), 'reward total');
      assert.ok(r.verifiableMean !== undefined, 'verifiable reward separately');
      assert.ok(r.judgeMean !== undefined && r.judgePYesFullMean !== undefined, 'judge reward separately');
      assert.ok(Number.isFinite(s.kl) && s.kl >= 0, 'KL');
      assert.ok(s.entropy > 0, 'entropy');
      assert.ok(s.responseLengthMean > 0, 'response length');
      assert.ok(s.judgeGoldAgreement !== undefined, 'judge-gold agreement on labeled samples');
      assert.ok(Number.isFinite(s.mismatchKl), 'mismatch KL');
      const mk = s.masked!;
      assert.equal(
        Number(mk.ok + mk.abstain + mk.timeout + mk.error + mk.stale),
        PROMPTS * G,
        'masked counts',
      );
      const t = s.timings!;
      assert.ok(
        t.rolloutWaitMs > 0 && t.trainMs >= 0 && t.publishMs > 0 && t.totalMs >= t.rolloutWaitMs,
        'timings',
      );
    }
    for (const s of steps) {
      t.diagnostic(
        `step ${s.step} v${s.weightsVersion}: reward ${s.reward?.totalMean.toFixed(3)} (vr ${s.reward?.verifiableMean?.toFixed(3)}, judge ${s.reward?.judgeMean?.toFixed(3)}), ` +
          `kl ${s.kl.toExponential(2)}, entropy ${s.entropy.toFixed(3)}, len ${s.responseLengthMean}, agreement ${s.judgeGoldAgreement?.toFixed(2)}, ` +
          `mismatch kl ${s.mismatchKl.toExponential(2)}, masked ${JSON.stringify(s.masked, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}, ` +
          `wait ${s.timings?.rolloutWaitMs.toFixed(0)} ms, train ${s.timings?.trainMs.toFixed(0)} ms, publish ${s.timings?.publishMs.toFixed(0)} ms`,
      );
    }
    // Rollouts and training share one architecture definition: the mismatch stays tiny.
    for (const s of steps) assert.ok(s.mismatchKl < 1e-3, `mismatch KL ${s.mismatchKl}`);
    assert.ok(steps[2]!.kl > 0, 'the policy moved away from the frozen reference');
  } finally {
    learner.close();
  }

  // Both replicas report the last version, over gRPC and in their health.
  for (let i = 0; i < 2; i++) {
    const policy = createGrpcClient(policyV1.PolicyServiceClient, stack.addresses[`policy-server-${i}`]!, {
      defaultDeadlineMs: 10_000,
    });
    try {
      const deadline = Date.now() + 30_000;
      let version = 0n;
      while (Date.now() < deadline) {
        version = (await policy.unary('getModelInfo', {})).model?.version ?? 0n;
        if (version === BigInt(STEPS)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(version, BigInt(STEPS), `policy-server-${i} version`);
      assert.equal(stack.policies[i]!.health().loadedVersion, BigInt(STEPS));
    } finally {
      policy.close();
    }
  }
  // Both replicas took part in generation.
  t.diagnostic(`rollouts per replica: ${stack.policies.map((p) => p.rolloutsPublished).join(', ')}`);
  assert.ok(
    stack.policies.every((p) => p.rolloutsPublished > 0),
    'both replicas generated',
  );

  // Every requested rollout was generated, scored and consumed exactly once, by id.
  const opts = { expected: TOTAL };
  const requested = await countStored(m, 'VERDICT_ROLLOUTS', 'verdict.rollout.requested', requestedId, opts);
  const generated = await countStored(m, 'VERDICT_ROLLOUTS', 'verdict.rollout.generated', generatedId, opts);
  const scored = await countStored(m, 'VERDICT_ROLLOUTS', 'verdict.rollout.scored', scoredId, opts);
  assert.equal(requested.size, TOTAL);
  for (const [stage, counts] of [
    ['requested', requested],
    ['generated', generated],
    ['scored', scored],
  ] as const) {
    assert.deepEqual([...counts.keys()].sort(), [...requested.keys()].sort(), `${stage} ids`);
    for (const [id, n] of counts) assert.equal(n, 1, `${stage} ${id} stored ${n} times`);
  }
  const state = JSON.parse(
    readFileSync(join(work, 'runs', 'e2e-grpo', 'checkpoints', 'step-000003', 'trainer_state.json'), 'utf8'),
  ) as { extra: { learner: { seenIds: string[] } } };
  const consumed = state.extra.learner.seenIds;
  // The last step ran the evaluator (toy-id, 8 problems) through a policy-server.
  const jsonl = readFileSync(join(work, 'runs', 'e2e-grpo', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const last = JSON.parse(jsonl.at(-1)!) as StepMetricsRecord;
  assert.equal(last.evaluation?.error, undefined);
  assert.deepEqual(
    last.evaluation?.scores.map((e) => [e.suite, e.n]),
    [['toy-id', 8]],
  );
  t.diagnostic(`evaluation at step 3: ${JSON.stringify(last.evaluation)}`);
  assert.equal(consumed.length, TOTAL);
  assert.deepEqual([...consumed].sort(), [...requested.keys()].sort());
});
