import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  compareWithShippedJudge,
  judgeRecipeConfig,
  prepareToyWorld,
  SHIPPED_JUDGE_MANIFEST,
  shippedToyJudgeRef,
  type TrainedToyJudge,
  toyStudentRecipe,
  trainToyJudge,
  verifyShippedJudge,
} from '../src/index.js';

/** The shipped judge's recipe cut to seconds: the same phases and measurements on a tiny model. */
const tiny = (studentHash: string) => ({
  ...judgeRecipeConfig(studentHash, 3),
  dims: { hiddenSize: 64, numLayers: 2, numHeads: 2, intermediateSize: 128 },
  solverProblems: 300,
  syntheticProblems: 100,
  studentSampleProblems: 20,
  claimItems: 50,
  checkpointEverySteps: 4,
  solverTrain: { batchSize: 16, lr: 3e-3 },
  train: { batchSize: 16, lr: 3e-3 },
  eval: { solverProblems: 20 },
});

describe('verdict toy train-judge (tiny recipe on the quick student)', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-train-judge-'));
  const lines: string[] = [];
  let judge: TrainedToyJudge;
  const train = (into: string[] = []) =>
    trainToyJudge({
      cacheDir,
      seed: 3,
      studentBudget: 'quick',
      threads: 1,
      config: tiny,
      onProgress: (l) => into.push(l),
    });

  before(async () => {
    judge = await train(lines);
  });
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('solves, then judges, with progress and checkpoints, and writes half-precision weights with a manifest', () => {
    const m = judge.manifest;
    assert.equal(judge.cached, false);
    for (const phase of ['solving', 'judging']) {
      assert.ok(
        lines.some((l) => new RegExp(`toy judge: ${phase} \\d+/\\d+ steps .* eta `).test(l)),
        `${phase}: ${lines.join('\n')}`,
      );
    }
    assert.equal(m.student.hash, judge.student.manifest.hash);
    assert.equal(m.config.studentHash, m.student.hash);
    assert.equal(m.dtype, 'F16');
    const bytes = readFileSync(join(judge.dir, 'model.safetensors'));
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
    const dtypes = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([, t]) => (t as { dtype: string }).dtype);
    assert.ok(dtypes.length > 0 && dtypes.every((d) => d === 'F16'), 'every tensor stored as F16');
    // Two AdamW runs: solving (300 problems) then judging, each to its own end.
    const phases = m.trainingPhases!;
    assert.equal(phases.solving.steps, Math.ceil(300 / 16));
    assert.ok(phases.judging.steps > 0);
    assert.equal(m.training.steps, phases.solving.steps + phases.judging.steps);
    for (const phase of ['solving', 'judging']) {
      assert.ok(
        existsSync(
          join(cacheDir, 'toy-judge', m.recipeHash, 'checkpoints', phase, 'latest', 'trainer_state.json'),
        ),
      );
    }
    // Half precision moves P(Yes) in the third decimal at most on this model.
    assert.ok(
      m.parity.samples === m.metrics.answer.samples && m.parity.maxAbsDiff < 0.01,
      JSON.stringify(m.parity),
    );
    assert.equal(m.metrics.checks.solver.problems, 20);
    assert.equal(m.metrics.checks.solver.template, 'plain');
    assert.ok(m.metrics.checks.slipProbe.samples >= 500);
  });

  it('the folder verifies by its sha256, and a changed byte is refused with both hashes', () => {
    assert.equal(verifyShippedJudge(judge.dir).sha256, judge.manifest.sha256);
    const copy = join(cacheDir, 'tampered');
    cpSync(judge.dir, copy, { recursive: true });
    const weights = join(copy, 'model.safetensors');
    const bytes = readFileSync(weights);
    const last = bytes.length - 1;
    bytes.writeUInt8(bytes.readUInt8(last) ^ 1, last);
    writeFileSync(weights, bytes);
    assert.throws(
      () => verifyShippedJudge(copy),
      new RegExp(`has sha256 [0-9a-f]{64}, its manifest says ${judge.manifest.sha256}`),
    );
  });

  it('a second call reuses the finished judge; a comparison with itself is within tolerance', async () => {
    const again: string[] = [];
    const second = await train(again);
    assert.equal(second.cached, true);
    assert.deepEqual(second.manifest, judge.manifest);
    const self = compareWithShippedJudge(judge.manifest, judge.dir);
    assert.ok(self?.within && self.sameRecipe && self.rows.length === 5);
    assert.equal(compareWithShippedJudge(judge.manifest, join(cacheDir, 'nowhere')), null);
  });

  it('a toy world with this judge shipped copies it, checks it, and measures it on the student', async () => {
    const shippedDir = join(cacheDir, 'shipped');
    cpSync(judge.dir, shippedDir, { recursive: true });
    const config = { ...toyStudentRecipe('quick', 3), judge: shippedToyJudgeRef(shippedDir) };
    const said: string[] = [];
    const world = await prepareToyWorld({
      cacheDir,
      config,
      shippedJudgeDir: shippedDir,
      onProgress: (l) => said.push(l),
    });
    assert.equal(world.manifest.models.judge.source, 'shipped');
    assert.ok(
      said.some((l) => /reusing cached student/.test(l)),
      'the student trained for the judge is reused',
    );
    assert.ok(!said.some((l) => /judge training/.test(l)), 'no judge trained');
    assert.equal(
      readFileSync(join(world.judgeDir, 'model.safetensors')).equals(
        readFileSync(join(shippedDir, 'model.safetensors')),
      ),
      true,
    );
    // The world measures the judge on the same seeded student samples the recipe did.
    assert.deepEqual(world.manifest.metrics.judge.chains, judge.manifest.metrics.chains);
    assert.equal(world.manifest.metrics.judge.auroc, judge.manifest.metrics.answer.auroc);

    // A judge trained for another student is refused.
    const other = join(cacheDir, 'other-student');
    cpSync(shippedDir, other, { recursive: true });
    const m = JSON.parse(readFileSync(join(other, SHIPPED_JUDGE_MANIFEST), 'utf8'));
    m.student.hash = 'ffffffffffffffff';
    writeFileSync(join(other, SHIPPED_JUDGE_MANIFEST), JSON.stringify(m));
    await assert.rejects(
      prepareToyWorld({ cacheDir, config, shippedJudgeDir: other, force: true }),
      /was trained for student ffffffffffffffff/,
    );
    // ...and so is one trained for the same student recipe but another student file.
    m.student.hash = judge.manifest.student.hash;
    m.student.sha256 = 'ee'.repeat(32);
    writeFileSync(join(other, SHIPPED_JUDGE_MANIFEST), JSON.stringify(m));
    await assert.rejects(
      prepareToyWorld({ cacheDir, config, shippedJudgeDir: other, force: true }),
      /was trained for student [0-9a-f]{16} \(eeeeeeeeeeee…\)/,
    );
  });
});
