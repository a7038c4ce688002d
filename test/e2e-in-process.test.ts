// The five services on the in-process messaging transport (mem://, no nats-server): the same
// GRPO run as e2e.test.ts, smaller, audited through subscribeOrdered instead of raw JetStream.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Stack, startStack } from '@verdict/cli/stack';
import { parseRunConfig } from '@verdict/learner';
import { learnerV1, rolloutV1 } from '@verdict/proto';
import { connectMessaging, createGrpcClient, disposeInMemoryBroker, type Messaging } from '@verdict/runtime';
import { toyStackOptions } from './support/stack.js';
import { writeToyJudge, writeToyStudent } from './support/toy-models.js';

const STEPS = 2;
const PROMPTS = 2;
const G = 4;
const TOTAL = STEPS * PROMPTS * G;
const BROKER = `e2e-in-process-${process.pid}`;
const MEM_URL = `mem://${BROKER}`;

let student: { dir: string; cleanup: () => void };
let judge: { dir: string; cleanup: () => void };
let work: string;
let m: Messaging;
let stack: Stack;
let learnerAddress = '';

before(async () => {
  student = writeToyStudent();
  judge = writeToyJudge();
  work = mkdtempSync(join(tmpdir(), 'verdict-e2e-mem-'));
  stack = await startStack(
    toyStackOptions({
      natsUrl: MEM_URL,
      studentDir: student.dir,
      judgeDir: judge.dir,
      workDir: work,
      policyReplicas: 2,
      skip: ['evaluator'],
    }),
  );
  learnerAddress = stack.addresses['learner']!;
  m = await connectMessaging({ servers: MEM_URL, name: 'e2e-in-process-audit' });
});

after(async () => {
  await m?.close();
  await stack?.stop().catch(() => undefined);
  disposeInMemoryBroker(BROKER);
  student?.cleanup();
  judge?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Counts every stored message of one subject by key (an ordered read until nothing is pending). */
async function countStored(subject: string, key: (d: Uint8Array) => string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const sub = await m.subscribeOrdered({
    stream: 'VERDICT_ROLLOUTS',
    filterSubject: subject,
    deliverPolicy: 'all',
  });
  for await (const msg of sub) {
    const k = key(msg.data);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    if (msg.pending === 0) break;
  }
  await sub.close();
  return counts;
}

test(`${STEPS} GRPO steps across the services on the in-process transport, two policy replicas`, async (t) => {
  assert.equal(m.transport, 'memory');
  const learner = createGrpcClient(learnerV1.LearnerServiceClient, learnerAddress, {
    defaultDeadlineMs: 300_000,
  });
  const startedAt = Date.now();
  try {
    const config = parseRunConfig({
      runId: 'e2e-mem',
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
      seed: 1,
      stepTimeoutMs: 120_000,
    });
    await learner.unary('startRun', { config, resume: false });
    const steps: learnerV1.StepMetrics[] = [];
    for await (const r of learner.serverStream('streamMetrics', { runId: 'e2e-mem', fromStep: 0n })) {
      if (r.metrics) steps.push(r.metrics);
    }
    const status = (await learner.unary('getRunStatus', { runId: 'e2e-mem' })).status;
    assert.equal(status?.state, learnerV1.RunState.RUN_STATE_COMPLETED, status?.message);
    assert.deepEqual(
      steps.map((s) => Number(s.step)),
      [1, 2],
    );
    assert.equal(status?.weightsVersion, BigInt(STEPS));
    for (const s of steps) {
      const mk = s.masked!;
      assert.equal(
        Number(mk.ok + mk.abstain + mk.timeout + mk.error + mk.stale),
        PROMPTS * G,
        'masked counts',
      );
      assert.ok(s.mismatchKl < 1e-3, `mismatch KL ${s.mismatchKl}`);
      t.diagnostic(
        `step ${s.step}: reward ${s.reward?.totalMean.toFixed(3)}, wait ${s.timings?.rolloutWaitMs.toFixed(0)} ms, ` +
          `train ${s.timings?.trainMs.toFixed(0)} ms, publish ${s.timings?.publishMs.toFixed(0)} ms`,
      );
    }
    t.diagnostic(`run wall time ${Date.now() - startedAt} ms`);
  } finally {
    learner.close();
  }

  // Weights went through the in-process object store and ordered subscription to both replicas.
  for (let i = 0; i < stack.policies.length; i++) {
    const deadline = Date.now() + 30_000;
    while (stack.policies[i]!.health().loadedVersion !== BigInt(STEPS) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(stack.policies[i]!.health().loadedVersion, BigInt(STEPS), `policy-server-${i} version`);
    assert.equal(stack.policies[i]!.health().natsConnected, true);
  }
  t.diagnostic(`rollouts per replica: ${stack.policies.map((p) => p.rolloutsPublished).join(', ')}`);
  assert.ok(
    stack.policies.every((p) => p.rolloutsPublished > 0),
    'both replicas generated',
  );

  const requested = await countStored(
    'verdict.rollout.requested',
    (d) => rolloutV1.RolloutRequested.decode(d).rolloutId,
  );
  const generated = await countStored(
    'verdict.rollout.generated',
    (d) => rolloutV1.RolloutGenerated.decode(d).request?.rolloutId ?? '?',
  );
  const scored = await countStored(
    'verdict.rollout.scored',
    (d) => rolloutV1.RolloutScored.decode(d).generated?.request?.rolloutId ?? '?',
  );
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
    readFileSync(join(work, 'runs', 'e2e-mem', 'checkpoints', 'step-000002', 'trainer_state.json'), 'utf8'),
  ) as { extra: { learner: { seenIds: string[] } } };
  assert.deepEqual([...state.extra.learner.seenIds].sort(), [...requested.keys()].sort());
});
