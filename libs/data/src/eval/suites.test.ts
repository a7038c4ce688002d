import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSharedDatasets } from '../datasets/data-dir.js';
import { evaluateProblems } from './evaluate.js';
import { ORACLE_MODEL, WRONG_MODEL } from './pseudo-models.js';
import { getSuite, loadSuite, problemCategory, SUITE_NAMES } from './suites.js';

const skip = findSharedDatasets(process.cwd()) === undefined ? 'no shared/datasets above cwd' : false;

test('every suite loads; oracle scores 1.0 and wrong 0.0 through the harness, strict and flexible', {
  skip,
}, async () => {
  for (const name of SUITE_NAMES) {
    const suite = getSuite(name);
    const problems = loadSuite(name);
    assert.ok(problems.length > 0, name);
    assert.equal(new Set(problems.map((p) => p.id)).size, problems.length, `${name} ids unique`);
    const category = (p: (typeof problems)[number]) => problemCategory(suite, p);
    const oracle = await evaluateProblems(
      problems,
      { greedy: (p) => ORACLE_MODEL.answer(p), sample: (p, i) => ORACLE_MODEL.answer(p, i) },
      { samples: 2, category },
    );
    const wrong = await evaluateProblems(problems, { greedy: (p) => WRONG_MODEL.answer(p) }, { category });
    console.log(
      `${name}: n=${problems.length} oracle strict=${oracle.scores.strict.accuracy} flexible=${oracle.scores.flexible.accuracy} maj@2=${oracle.scores.majAtK}; wrong strict=${wrong.scores.strict.accuracy} flexible=${wrong.scores.flexible.accuracy}`,
    );
    assert.equal(oracle.scores.strict.accuracy, 1, name);
    assert.equal(oracle.scores.flexible.accuracy, 1, name);
    assert.equal(oracle.scores.majAtK, 1, name);
    assert.equal(wrong.scores.strict.accuracy, 0, name);
    assert.equal(wrong.scores.flexible.accuracy, 0, name);
  }
});

test('gsm-plus breaks down by the 8 perturbation types; limit takes a prefix', { skip }, async () => {
  const suite = getSuite('gsm-plus');
  const problems = loadSuite('gsm-plus');
  const r = await evaluateProblems(
    problems,
    { greedy: (p) => ORACLE_MODEL.answer(p) },
    { category: (p) => problemCategory(suite, p) },
  );
  assert.equal(Object.keys(r.scores.byCategory ?? {}).length, 8);
  assert.equal(r.scores.byCategory?.['critical thinking']?.n, 300);
  assert.deepEqual(
    loadSuite('gsm8k-test', { limit: 5 }).map((p) => p.id),
    loadSuite('gsm8k-test')
      .slice(0, 5)
      .map((p) => p.id),
  );
  assert.throws(() => getSuite('gsm9k'), /known: gsm8k-test/);
});

test('toy suites are deterministic and differ in and out of domain', () => {
  const a = loadSuite('toy-id', { limit: 20 });
  assert.deepEqual(a, loadSuite('toy-id', { limit: 20 }));
  const ood = new Set(loadSuite('toy-ood').map((p) => p.meta['scenario']));
  const id = new Set(loadSuite('toy-id').map((p) => p.meta['scenario']));
  assert.ok([...ood].every((s) => !id.has(s)));
});
