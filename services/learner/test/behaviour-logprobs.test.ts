// behaviourLogprobs ROLLOUT: the trainer skips `score` and takes the rollout engine's log-probs as the
// PPO ratio's denominator. Against RECOMPUTE on the same weights and rollouts (real inference-engine
// rollouts, real ONNX sessions): one update per step lands on the same parameters when the rollout
// log-probs are the true ones and on different ones when they are off; entropy and the mismatch
// metrics are still reported (from the first update's forward) and agree with RECOMPUTE's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateToyProblems } from '@verdict/data';
import { generate, loadModel, readSafetensors } from '@verdict/models';
import type { ScoredSample } from '../src/domain/scored-sample.js';
import { packRows, type RowBatch, type TrainRow } from '../src/domain/train-rows.js';
import { parseRunConfig } from '../src/index.js';
import { createPolicyTrainer, type TrainOutcome } from '../src/training/policy-trainer.js';
import { writeToyStudent } from './helpers.js';

const TOLERANCE = 1e-5;
const tmp = mkdtempSync(join(tmpdir(), 'verdict-learner-behaviour-'));
let student: { dir: string; cleanup: () => void };
let samples: ScoredSample[];

/** 2 questions × G=4 rollouts of the inference engine, with its log-probs. */
async function rollouts(dir: string): Promise<ScoredSample[]> {
  const model = loadModel(dir);
  try {
    const problems = generateToyProblems(2, { seed: 5, split: 'id' });
    const prompts = problems.flatMap((p, q) =>
      [0, 1, 2, 3].map((i) => ({ ids: model.tokenizer.encode(p.question), seed: 10 * q + i })),
    );
    const gens = await generate(model, prompts, { temperature: 1, maxNewTokens: 10 });
    return gens.map((g, k) => ({
      rolloutId: `r${k}`,
      runId: 'behaviour',
      step: 1,
      groupId: `g${k >> 2}`,
      groupIndex: k % 4,
      groupSize: 4,
      questionId: `q${k >> 2}`,
      labeled: true,
      promptIds: g.promptIds,
      completionIds: g.ids,
      rolloutLogprobs: g.logprobs,
      policyVersion: 0,
      terminal: g.finishReason === 'stop_token',
      status: 'OK' as const,
      total: k % 3 === 0 ? 1 : 0,
      generatorId: 'test',
    }));
  } finally {
    await model.close();
  }
}

before(async () => {
  student = writeToyStudent();
  samples = await rollouts(student.dir);
});
after(() => {
  student?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

/** Rows with ± advantages; `offset(c)` is added to the rollout log-prob of completion token c. */
function rows(offset: (c: number) => number = () => 0): TrainRow[] {
  return samples.map((s, k) => ({
    sample: { ...s, rolloutLogprobs: s.rolloutLogprobs.map((x, c) => x + offset(c)) },
    advantage: (k % 4) - 1.5,
  }));
}

interface Stepped {
  readonly out: TrainOutcome;
  readonly params: Map<string, Float32Array>;
}

let runs = 0;
/** One train() call of a fresh trainer at the student's weights; `minibatches` as the learner splits them. */
async function step(
  behaviour: 'BEHAVIOUR_LOGPROBS_ROLLOUT' | 'BEHAVIOUR_LOGPROBS_RECOMPUTE',
  minibatches: RowBatch[][],
  extra: Record<string, unknown> = {},
): Promise<Stepped> {
  const run = parseRunConfig({
    runId: 'behaviour',
    student: { checkpointUri: student.dir },
    judge: { modelId: 'j' },
    dataMix: [{ name: 'toy', limit: 8 }],
    promptsPerStep: 2,
    groupSize: 4,
    minibatchSize: 8 / minibatches.length,
    learningRate: 1e-3,
    klCoef: 0.05,
    behaviourLogprobs: behaviour,
    ...extra,
  });
  const trainer = createPolicyTrainer({ run, intraOpThreads: 1 });
  try {
    const out = await trainer.train(minibatches, 1);
    const path = join(tmp, `weights-${runs++}.safetensors`);
    writeFileSync(path, trainer.weights());
    const params = new Map([...readSafetensors(path)].map(([k, t]) => [k, Float32Array.from(t.data)]));
    return { out, params };
  } finally {
    await trainer.close();
  }
}

/** max over tensors of max|a − b| / max|b|: 0 for identical parameters. */
function relativeDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [name, y] of b) {
    const x = a.get(name)!;
    let d = 0;
    let m = 0;
    for (let i = 0; i < y.length; i++) {
      d = Math.max(d, Math.abs(x[i]! - y[i]!));
      m = Math.max(m, Math.abs(y[i]!));
    }
    worst = Math.max(worst, d / (m || 1));
  }
  return worst;
}

const close = (a: number, b: number, what: string, tol = TOLERANCE) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('behaviourLogprobs ROLLOUT vs RECOMPUTE (one update per step)', () => {
  it('true rollout log-probs: the same update, entropy and mismatch metrics; no scoring time', async (t) => {
    const batches = () => {
      const r = rows();
      return [[packRows(r.slice(0, 4)), packRows(r.slice(4))]];
    };
    const initial = new Map(
      [...readSafetensors(join(student.dir, 'model.safetensors'))].map(([k, x]) => [
        k,
        Float32Array.from(x.data),
      ]),
    );
    const recompute = await step('BEHAVIOUR_LOGPROBS_RECOMPUTE', batches());
    const rollout = await step('BEHAVIOUR_LOGPROBS_ROLLOUT', batches());
    const moved = relativeDiff(recompute.params, initial);
    const diff = relativeDiff(rollout.params, recompute.params);
    t.diagnostic(
      `update size ${moved.toExponential(2)}, ROLLOUT vs RECOMPUTE ${diff.toExponential(2)}, ` +
        `mismatch max |Δ log p| ${rollout.out.mismatchMaxAbsLogprobDiff.toExponential(2)} vs ` +
        `${recompute.out.mismatchMaxAbsLogprobDiff.toExponential(2)}`,
    );
    assert.ok(moved > 1e-3, `the update moves the weights (${moved})`);
    assert.ok(diff <= TOLERANCE, `ROLLOUT and RECOMPUTE updates differ by ${diff}`);
    assert.equal(rollout.out.optimizerSteps, 1);
    assert.equal(rollout.out.phaseMs.score, 0, 'no scoring pass');
    assert.ok(recompute.out.phaseMs.score > 0);
    assert.ok(recompute.out.entropy > 0);
    close(rollout.out.entropy, recompute.out.entropy, 'entropy');
    close(rollout.out.kl, recompute.out.kl, 'kl');
    close(rollout.out.policyLoss, recompute.out.policyLoss, 'policyLoss');
    // Engine vs training graph: float32 noise in both modes, the same tokens measured.
    assert.ok(rollout.out.mismatchMaxAbsLogprobDiff <= 1e-4, 'rollout mismatch is float noise');
    close(rollout.out.mismatchMaxAbsLogprobDiff, recompute.out.mismatchMaxAbsLogprobDiff, 'max |Δ log p|');
    close(rollout.out.mismatchKl, recompute.out.mismatchKl, 'mismatch KL');
  });

  it('offset rollout log-probs: a different update, and the mismatch metrics show the offset', async (t) => {
    // −0.5 on every other completion token: their ratio starts at e^0.5, beyond the 1.2 clip (no
    // gradient for A > 0), so the update's direction changes (a uniform offset would not, with Adam).
    const offset = (c: number) => (c % 2 === 0 ? -0.5 : 0);
    const batches = () => {
      const r = rows(offset);
      return [[packRows(r.slice(0, 4)), packRows(r.slice(4))]];
    };
    const recompute = await step('BEHAVIOUR_LOGPROBS_RECOMPUTE', batches());
    const rollout = await step('BEHAVIOUR_LOGPROBS_ROLLOUT', batches());
    const diff = relativeDiff(rollout.params, recompute.params);
    t.diagnostic(`ROLLOUT vs RECOMPUTE with offset rollouts ${diff.toExponential(2)}`);
    assert.ok(diff > 100 * TOLERANCE, `the updates should differ (${diff})`);
    assert.ok(rollout.out.clipFraction > 0, 'the offset tokens are clipped');
    assert.ok(Math.abs(rollout.out.mismatchMaxAbsLogprobDiff - 0.5) < 1e-3);
    close(rollout.out.mismatchMaxAbsLogprobDiff, recompute.out.mismatchMaxAbsLogprobDiff, 'max |Δ log p|');
    close(rollout.out.mismatchKl, recompute.out.mismatchKl, 'mismatch KL');
    close(rollout.out.entropy, recompute.out.entropy, 'entropy');
  });

  it('two minibatches: only the first update counts toward the mismatch (later ones are post-update)', async () => {
    const batches = () => {
      const r = rows();
      return [[packRows(r.slice(0, 4))], [packRows(r.slice(4))]];
    };
    // A large learning rate: the second minibatch's log-probs move far from its rollouts' after update 1.
    const extra = { learningRate: 5e-2 };
    const rollout = await step('BEHAVIOUR_LOGPROBS_ROLLOUT', batches(), extra);
    const recompute = await step('BEHAVIOUR_LOGPROBS_RECOMPUTE', batches(), extra);
    assert.equal(rollout.out.optimizerSteps, 2);
    assert.ok(rollout.out.mismatchMaxAbsLogprobDiff <= 1e-4, `${rollout.out.mismatchMaxAbsLogprobDiff}`);
    close(rollout.out.mismatchMaxAbsLogprobDiff, recompute.out.mismatchMaxAbsLogprobDiff, 'max |Δ log p|');
    assert.ok(rollout.out.entropy > 0 && Number.isFinite(rollout.out.entropy));
  });
});
