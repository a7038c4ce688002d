// An OPT (Galactica-shaped) student through the whole RL pipeline: policy-server, judge-server,
// reward-service and learner on the in-process transport, 3 GRPO steps. The policy-server generates
// with the inference engine (left-padded batches, KV-buffer decode) and the learner scores the same
// tokens with the training graph (right-padded rows); both take OPT's learned positions from the
// attention mask. The learner's reported rollout-vs-training mismatch is the check that the two
// engines run the same OPT model; the checkpoints are checked to be OPT checkpoints.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Stack, startStack } from '@verdict/cli/stack';
import { parseRunConfig } from '@verdict/learner';
import { generate, loadModel, loadModelConfig, readSafetensors } from '@verdict/models';
import { learnerV1 } from '@verdict/proto';
import { createGrpcClient, disposeInMemoryBroker } from '@verdict/runtime';
import { optTinyDir, writeOptStudent } from './support/opt-models.js';
import { toyStackOptions } from './support/stack.js';
import { writeToyJudge } from './support/toy-models.js';

const STEPS = 3;
const PROMPTS = 2;
const G = 4;
const BROKER = `e2e-opt-${process.pid}`;
const MEM_URL = `mem://${BROKER}`;
const RUN_ID = 'e2e-opt';
/** The same bound libs/rl's OPT rollout-parity test asserts (measured there: 4.1e-6). */
const MAX_MISMATCH = 1e-5;

let student: { dir: string; cleanup: () => void };
let judge: { dir: string; cleanup: () => void };
let work: string;
let stack: Stack;

before(async () => {
  student = writeOptStudent('opt-tiny-galactica');
  judge = writeToyJudge();
  work = mkdtempSync(join(tmpdir(), 'verdict-e2e-opt-'));
  stack = await startStack(
    toyStackOptions({
      natsUrl: MEM_URL,
      studentDir: student.dir,
      judgeDir: judge.dir,
      workDir: work,
      skip: ['evaluator'],
    }),
  );
});

after(async () => {
  await stack?.stop().catch(() => undefined);
  disposeInMemoryBroker(BROKER);
  student?.cleanup();
  judge?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface MetricsLine {
  step: number;
  mismatchKl: number;
  mismatchMaxAbsLogprobDiff: number;
  responseLengthMean: number;
  samplesUsed: number;
  policyLoss: number;
  gradNorm: number;
}

test(`an OPT student: ${STEPS} GRPO steps across the services, rollout and training log-probs agree`, async (t) => {
  const learner = createGrpcClient(learnerV1.LearnerServiceClient, stack.addresses['learner']!, {
    defaultDeadlineMs: 300_000,
  });
  try {
    const config = parseRunConfig({
      runId: RUN_ID,
      student: { checkpointUri: student.dir, modelId: 'opt-tiny-galactica' },
      judge: { modelId: 'toy-judge' },
      dataMix: [{ name: 'toy', limit: 64 }],
      labeledRatio: { labeled: 1, unlabeled: 1 },
      dataSeed: 7,
      reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
      algorithm: 'ALGORITHM_GRPO',
      promptsPerStep: PROMPTS,
      groupSize: G,
      microBatchSize: 4,
      learningRate: 1e-3,
      klCoef: 0.05,
      // OPT-tiny has 128 learned positions: short completions keep prompt + completion inside them.
      rolloutSampling: { temperature: 1, maxNewTokens: 12 },
      maxSteps: STEPS,
      seed: 1,
      stepTimeoutMs: 120_000,
    });
    await learner.unary('startRun', { config, resume: false });
    const streamed: learnerV1.StepMetrics[] = [];
    for await (const r of learner.serverStream('streamMetrics', { runId: RUN_ID, fromStep: 0n })) {
      if (r.metrics) streamed.push(r.metrics);
    }
    const status = (await learner.unary('getRunStatus', { runId: RUN_ID })).status;
    assert.equal(status?.state, learnerV1.RunState.RUN_STATE_COMPLETED, status?.message);
    assert.deepEqual(
      streamed.map((s) => Number(s.step)),
      [1, 2, 3],
    );
    assert.equal(status?.weightsVersion, BigInt(STEPS));
    for (const s of streamed)
      assert.ok(s.mismatchKl <= MAX_MISMATCH, `step ${s.step}: mismatch KL ${s.mismatchKl}`);
  } finally {
    learner.close();
  }

  // metrics.jsonl has the max |Δ log p| (the proto carries only the KL): the per-token bound.
  const runDir = join(work, 'runs', RUN_ID);
  const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsLine);
  assert.deepEqual(
    lines.map((l) => l.step),
    [1, 2, 3],
  );
  for (const l of lines) {
    t.diagnostic(
      `step ${l.step}: mismatch max |Δ log p| ${l.mismatchMaxAbsLogprobDiff.toExponential(2)}, ` +
        `KL ${l.mismatchKl.toExponential(2)}, ${l.samplesUsed} samples × ${l.responseLengthMean.toFixed(1)} tokens, ` +
        `loss ${l.policyLoss.toFixed(4)}, grad norm ${l.gradNorm.toFixed(3)}`,
    );
    // The mismatch is measured over completion tokens: a step with none would pass vacuously.
    assert.ok(l.samplesUsed > 0 && l.responseLengthMean > 0, `step ${l.step} trained on completion tokens`);
    assert.ok(
      l.mismatchMaxAbsLogprobDiff <= MAX_MISMATCH,
      `step ${l.step}: rollout vs training max |Δ log p| ${l.mismatchMaxAbsLogprobDiff}`,
    );
    assert.ok(Number.isFinite(l.gradNorm) && l.gradNorm > 0, `step ${l.step} grad norm ${l.gradNorm}`);
  }

  // The learner trained the OPT model itself: its checkpoint is an OPT folder with the fixture's
  // OPT tensor names (learned positions included), changed by the updates, that the registry loads
  // as OPT and generates from. A student read as Llama would fail here (and could not have run).
  const ckptDir = join(runDir, 'checkpoints', `step-${String(STEPS).padStart(6, '0')}`);
  const saved = JSON.parse(readFileSync(join(ckptDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(saved['model_type'], 'opt');
  assert.equal(loadModelConfig(ckptDir).modelType, 'opt');
  const start = readSafetensors(join(optTinyDir('opt-tiny-galactica'), 'model.safetensors'));
  const trained = readSafetensors(join(ckptDir, 'model.safetensors'));
  assert.deepEqual([...trained.keys()].sort(), [...start.keys()].sort());
  assert.ok(trained.has('model.decoder.embed_positions.weight'), 'learned positions saved');
  const moved = [...start].filter(([name, w]) => {
    const v = trained.get(name)!.data;
    return w.data.some((x, i) => x !== v[i]);
  });
  assert.ok(moved.length > 0, 'the updates changed the OPT weights');
  const model = loadModel(ckptDir);
  try {
    assert.equal(model.config.modelType, 'opt');
    const [g] = await generate(model, [{ ids: [1, 5, 6, 7] }], { maxNewTokens: 4, temperature: 0 });
    assert.ok(g!.ids.length > 0 && g!.logprobs.every(Number.isFinite));
  } finally {
    await model.close();
  }

  // Every policy-server took the learner's OPT weights through the hot-swap path.
  for (const p of stack.policies) {
    const deadline = Date.now() + 30_000;
    while (p.health().loadedVersion !== BigInt(STEPS) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(p.health().loadedVersion, BigInt(STEPS));
  }
});
