import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  generateToyProblems,
  generateVerifierData,
  JUDGE_TEMPLATE,
  PLAIN_TEMPLATE,
  TOY_ERROR_KINDS,
} from '@verdict/data';
import { generate, judge, loadLlamaModel } from '@verdict/models';
import {
  JUDGE_PROBE_PROBLEMS,
  prepareToyWorld,
  TOY_MANIFEST_FORMAT,
  type ToyWorld,
  toyRecipeConfig,
  toyRecipeHash,
  toyStudentHash,
} from '../src/index.js';

describe('prepareToyWorld (quick recipe)', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-toy-'));
  const lines: string[] = [];
  let world: ToyWorld;

  // A folder left by a run that died midway (no process has this pid): removed, never reused.
  const abandoned = join(cacheDir, 'toy', `${toyRecipeHash(toyRecipeConfig('quick', 3))}.tmp-4194305`);

  /** The quick recipe at seed 3 in this cache, its progress lines into `into`. */
  const prepareQuick = (into: string[] = []) =>
    prepareToyWorld({ cacheDir, budget: 'quick', seed: 3, onProgress: (l) => into.push(l) });

  before(async () => {
    mkdirSync(abandoned, { recursive: true });
    world = await prepareQuick(lines);
  });
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('trains fresh the first time, keyed by the recipe hash, with progress lines', () => {
    assert.equal(world.cached, false);
    assert.equal(existsSync(abandoned), false, 'abandoned work folder removed');
    const hash = toyRecipeHash(toyRecipeConfig('quick', 3));
    assert.equal(world.dir, join(cacheDir, 'toy', hash));
    assert.ok(lines.some((l) => /student sft \d+\/\d+ steps .* steps\/s eta /.test(l)));
    assert.ok(lines.some((l) => /judge training \d+\/\d+ steps/.test(l)));
    // The judge's student samples arrive in four parts, each trained on as its own phase.
    assert.ok(lines.some((l) => /student samples for the judge \(part 4\/4\)/.test(l)));
    assert.ok(lines.some((l) => /judge training .* phase 6\/6 /.test(l)));
  });

  it('writes the manifest with metrics, seeds, template versions and timings', () => {
    const m = JSON.parse(readFileSync(join(world.dir, 'manifest.json'), 'utf8'));
    assert.equal(m.format, TOY_MANIFEST_FORMAT);
    assert.equal(m.config.seed, 3);
    assert.deepEqual(m.templates, { student: PLAIN_TEMPLATE.version, judge: JUDGE_TEMPLATE.version });
    for (const x of [m.metrics.student.accuracyId, m.metrics.student.accuracyOod, m.metrics.judge.accuracy]) {
      assert.ok(x >= 0 && x <= 1, `metric ${x} in [0, 1]`);
    }
    assert.ok(m.timings.total > 0);
    assert.equal(m.config.judge.source, 'trained');
    assert.equal(m.models.judge.source, 'trained');
    assert.equal(m.data.judgeSolverProblems, m.config.judge.pretrainProblems);
    assert.equal(
      m.data.judgeStudentSamples,
      m.config.judge.studentSampleProblems * m.config.judge.samplesPerProblem,
    );
    assert.equal(m.models.student.hash, toyStudentHash(m.config));
    assert.equal(m.metrics.judge.samples, m.config.eval.judgeProblems * m.config.eval.judgeSamplesPerProblem);
    assert.ok(m.training.student.finalLoss < m.training.student.firstLoss, 'student loss went down');
    assert.ok(m.training.judge.finalLoss < m.training.judge.firstLoss, 'judge loss went down');
    // The synthetic probe: one correct and (nearly always) one wrong solution per probe problem.
    const probe = m.metrics.judge.synthetic;
    assert.ok(probe.samples > JUDGE_PROBE_PROBLEMS && probe.samples <= 2 * JUDGE_PROBE_PROBLEMS);
    assert.ok(probe.auroc >= 0 && probe.auroc <= 1, `synthetic AUROC ${probe.auroc}`);
    assert.deepEqual(Object.keys(probe.meanScore).sort(), ['correct', ...TOY_ERROR_KINDS].sort());
    // Chain labels: a chain equal to the gold solution ends in the gold answer, so it is graded
    // correct; the rest of the correct samples are right answers from wrong chains.
    const chains = m.metrics.judge.chains;
    const correct = Math.round(m.metrics.judge.positiveRate * m.metrics.judge.samples);
    assert.ok(
      Number.isInteger(chains.chainCorrect) && chains.chainCorrect <= correct,
      JSON.stringify(chains),
    );
    if (correct > 0) assert.equal(chains.correctWithWrongChain, 1 - chains.chainCorrect / correct);
    // The judge checks (DESIGN.md §6): per-claim AUROC over the samples' steps, ≥ 500 planted slips,
    // the judge as a solver on the student's evaluation problems.
    const checks = m.metrics.judge.checks;
    assert.ok(
      checks.claims.items > 0 && checks.claims.holdRate >= 0 && checks.claims.holdRate <= 1,
      JSON.stringify(checks),
    );
    assert.ok(
      checks.slipProbe.samples >= 500 && checks.slipProbe.meanPYes > 0 && checks.slipProbe.meanPYes < 1,
    );
    assert.equal(checks.solver.problems, m.config.eval.studentProblems);
    assert.ok(checks.solver.greedyInDomain >= 0 && checks.solver.greedyInDomain <= 1);
  });

  it('the student folder loads with loadLlamaModel and generates', async () => {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      assert.ok(existsSync(join(world.studentDir, f)), f);
    }
    const model = loadLlamaModel(world.studentDir);
    try {
      const [g] = await generate(
        model,
        ['Question: Sam has 3 apples. How many apples does Sam have?\nAnswer:'],
        {
          maxNewTokens: 12,
        },
      );
      assert.ok(g !== undefined && g.ids.length > 0);
      assert.ok(g.text.length > 0);
    } finally {
      await model.close();
    }
  });

  it('the judge loads and scores correct solutions above wrong ones on average', async () => {
    const problems = generateToyProblems(40, { seed: 'recipes-test', split: 'id' });
    const data = generateVerifierData(problems, { seed: 'recipes-test' });
    const model = loadLlamaModel(world.judgeDir);
    try {
      const scores = await judge(
        model,
        data.map((d) => ({ question: d.question, answer: d.solution })),
        { template: 'plain' },
      );
      const mean = (label: boolean) => {
        const s = scores.filter((_, i) => data[i]!.label === label).map((r) => r.score);
        return s.reduce((a, b) => a + b, 0) / s.length;
      };
      assert.ok(mean(true) > mean(false), `correct ${mean(true)} > wrong ${mean(false)}`);
    } finally {
      await model.close();
    }
  });

  it('a second call reuses the cache and says so; nothing is retrained', async () => {
    const again: string[] = [];
    const second = await prepareQuick(again);
    assert.equal(second.cached, true);
    assert.equal(second.dir, world.dir);
    assert.deepEqual(second.manifest, world.manifest);
    assert.ok(again.some((l) => /reusing cached recipe/.test(l)));
    assert.ok(!again.some((l) => /student sft/.test(l)), 'nothing retrained');
  });

  it('an undefined metric (NaN, written as null in JSON) reads back as NaN from the cache', async () => {
    const path = join(world.dir, 'manifest.json');
    const original = readFileSync(path, 'utf8');
    try {
      const m = JSON.parse(original);
      m.metrics.judge.auroc = Number.NaN; // one class only: AUROC undefined
      writeFileSync(path, JSON.stringify(m));
      assert.match(readFileSync(path, 'utf8'), /"auroc":null/);
      const cached = await prepareQuick();
      assert.equal(cached.cached, true);
      assert.ok(Number.isNaN(cached.manifest.metrics.judge.auroc));
      assert.equal(cached.manifest.metrics.judge.auroc.toFixed(3), 'NaN');
    } finally {
      writeFileSync(path, original);
    }
  });

  it('another seed is another recipe folder', () => {
    assert.notEqual(toyRecipeHash(toyRecipeConfig('quick', 4)), toyRecipeHash(toyRecipeConfig('quick', 3)));
    const shipped = { source: 'shipped', recipeHash: '0123456789abcdef', sha256: 'ab'.repeat(32) } as const;
    assert.notEqual(
      toyRecipeHash(toyRecipeConfig('full', 3, 1, shipped)),
      toyRecipeHash(toyRecipeConfig('quick', 3)),
    );
    // Thread count is not part of the key: the same recipe with other threads reuses the cache.
    assert.equal(
      toyRecipeHash(toyRecipeConfig('quick', 3, 1)),
      toyRecipeHash(toyRecipeConfig('quick', 3, 2)),
    );
  });
});
