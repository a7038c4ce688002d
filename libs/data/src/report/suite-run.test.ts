import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSharedDatasets } from '../datasets/data-dir.js';
import { evaluateProblems } from '../eval/evaluate.js';
import { ORACLE_MODEL, WRONG_MODEL, wrongNumber } from '../eval/pseudo-models.js';
import { getSuite, loadSuite, problemCategory, TOY_EVAL_SEED, TOY_EVAL_SIZE } from '../eval/suites.js';
import type { Problem } from '../problem.js';
import { PLAIN_TEMPLATE } from '../prompts/templates.js';
import { generateToyProblems } from '../toy/generator.js';
import {
  createPseudoGenerator,
  EvalArgumentError,
  formatSuiteProgress,
  runSuiteEval,
  type SuiteGenerator,
  type SuiteProgress,
} from './suite-run.js';

const skip = findSharedDatasets(process.cwd()) === undefined ? 'no shared/datasets above cwd' : false;

/** Right on problems whose id hash is even, wrong elsewhere; samples: 2 right of 3 on every problem. */
function halfRight(problem: Problem): boolean {
  let h = 0;
  for (const c of problem.id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 2 === 0;
}
const answerFor = (p: Problem, right: boolean): string =>
  right ? ORACLE_MODEL.answer(p) : `The answer is ${wrongNumber(p.answer)}.`;

const mixed: SuiteGenerator = {
  model: 'mixed',
  greedy: async (batch) => batch.map(({ problem }) => answerFor(problem, halfRight(problem))),
  sample: async (batch, s) =>
    batch.map(({ problem }) => Array.from({ length: s.count }, (_, i) => answerFor(problem, i % 3 !== 2))),
};

test('toy-id: oracle 1.0 and wrong 0.0, strict and flexible, with maj@k', async () => {
  const oracle = await runSuiteEval({
    suite: 'toy-id',
    generator: createPseudoGenerator(ORACLE_MODEL),
    samples: 3,
  });
  assert.equal(oracle.result.n, TOY_EVAL_SIZE);
  assert.equal(oracle.result.accuracy, 1);
  assert.equal(oracle.result.flexible.accuracy, 1);
  assert.equal(oracle.result.maj_at_k, 1);
  assert.equal(oracle.result.mean_at_k, 1);
  assert.equal(oracle.result.k, 3);
  assert.deepEqual(Object.keys(oracle.result.per_category).sort(), ['1', '2', '3', '4']);
  const wrong = await runSuiteEval({
    suite: 'toy-id',
    generator: createPseudoGenerator(WRONG_MODEL),
    limit: 40,
  });
  assert.equal(wrong.result.n, 40);
  assert.equal(wrong.result.accuracy, 0);
  assert.equal(wrong.result.flexible.accuracy, 0);
  assert.equal(wrong.result.maj_at_k, null);
  assert.equal(wrong.result.mean_at_k, null);
  assert.equal(wrong.result.k, null);
  // Problem i depends only on the seed and i: growing the suite kept its first 500 problems.
  assert.deepEqual(
    loadSuite('toy-id', { limit: 500 }).map((p) => p.question),
    generateToyProblems(500, { seed: TOY_EVAL_SEED, split: 'id' }).map((p) => p.question),
  );
  assert.equal(wrong.result.template_version, PLAIN_TEMPLATE.version);
});

test('matches evaluateProblems on the same outputs; progress per batch ends at total', async () => {
  const progress: SuiteProgress[] = [];
  const out = await runSuiteEval({
    suite: 'toy-ood',
    generator: mixed,
    limit: 50,
    samples: 3,
    k: 2,
    batchSize: 16,
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(
    progress.map((p) => p.done),
    [16, 32, 48, 50],
  );
  assert.ok(progress.every((p) => p.total === 50));
  const suite = getSuite('toy-ood');
  const problems = loadSuite('toy-ood', { limit: 50 });
  const reference = await evaluateProblems(
    problems,
    {
      greedy: (p) => answerFor(p, halfRight(p)),
      sample: (p, i) => answerFor(p, i % 3 !== 2),
    },
    { samples: 3, k: 2, category: (p) => problemCategory(suite, p) },
  );
  const expectedRight = problems.filter(halfRight).length;
  assert.ok(expectedRight > 5 && expectedRight < 45, `non-trivial split (${expectedRight})`);
  assert.equal(out.result.accuracy, expectedRight / 50);
  assert.equal(out.result.accuracy, reference.scores.accuracy);
  assert.equal(out.result.flexible.accuracy, reference.scores.flexible.accuracy);
  assert.equal(out.result.maj_at_k, reference.scores.majAtK);
  // 2 right of 3 samples, k=2. Flexible: both right (1/3 of draws) → 1; one right one wrong → tie
  // → 1/2; mean 2/3. Strict: the wrong samples have no `####` line, so they abstain → 1.
  assert.ok(Math.abs(out.result.flexible.maj_at_k! - 2 / 3) < 1e-12);
  assert.equal(out.result.maj_at_k, 1);
  assert.equal(out.result.flexible.maj_at_k, reference.scores.flexible.majAtK);
  assert.equal(progress.at(-1)!.runningStrict, out.result.accuracy);
  for (const [name, c] of Object.entries(reference.scores.byCategory ?? {})) {
    assert.equal(out.result.per_category[name]?.accuracy, c.strict.accuracy, name);
  }
  assert.equal(out.items.length, 50);
});

test('bad input names the field', async () => {
  const g = createPseudoGenerator(ORACLE_MODEL);
  const field = async (o: Partial<Parameters<typeof runSuiteEval>[0]>) => {
    try {
      await runSuiteEval({ suite: 'toy-id', generator: g, ...o });
    } catch (e) {
      assert.ok(e instanceof EvalArgumentError);
      assert.equal(e.code, 'INVALID_ARGUMENT');
      return e.field;
    }
    assert.fail('no error');
  };
  assert.equal(await field({ suite: 'nope' }), 'suite');
  assert.equal(await field({ samples: 2, k: 3 }), 'k');
  assert.equal(await field({ limit: 0 }), 'limit');
  assert.equal(await field({ samples: 2, generator: { model: 'g', greedy: async () => [] } }), 'samples');
});

test('progress line shows done/total, rate and ETA', () => {
  const line = formatSuiteProgress({
    suite: 'gsm8k-test',
    done: 100,
    total: 1100,
    runningStrict: 0.25,
    runningFlexible: 0.3,
    elapsedMs: 10_000,
  });
  assert.equal(line, 'gsm8k-test 100/1100 (9.1%) acc 25.0% · 10.0 q/s · ETA 1m40s');
});

test('gsm8k-test and gsm-plus through the harness: oracle 1.0, wrong 0.0, 8 perturbation types', {
  skip,
}, async () => {
  const oracle = await runSuiteEval({ suite: 'gsm8k-test', generator: createPseudoGenerator(ORACLE_MODEL) });
  const wrong = await runSuiteEval({ suite: 'gsm8k-test', generator: createPseudoGenerator(WRONG_MODEL) });
  assert.equal(oracle.result.n, 1319);
  assert.equal(oracle.result.accuracy, 1);
  assert.equal(wrong.result.accuracy, 0);
  const plus = await runSuiteEval({ suite: 'gsm-plus', generator: createPseudoGenerator(ORACLE_MODEL) });
  assert.equal(Object.keys(plus.result.per_category).length, 8);
  assert.ok(Object.values(plus.result.per_category).every((c) => c.accuracy === 1 && c.n === 300));
});
