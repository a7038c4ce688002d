// Table-driven checks over the REAL datasets in ../shared/datasets (found by the resolver).
// Every gold solution must extract to its gold answer, strict and flexible; every answer parses.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isCannotAnswer } from '../src/answer/cannot-answer.js';
import { answersEqual } from '../src/answer/check-answer.js';
import { extractFlexible, extractionValue, extractStrict } from '../src/answer/extract.js';
import { findSharedDatasets, resolveDatasetFile } from '../src/datasets/data-dir.js';
import { DATASET_SOURCES } from '../src/datasets/dataset-manifest.js';
import { readGsm8k, readGsmHard, readGsmPlus, readMawps, readSvamp } from '../src/datasets/readers.js';
import type { Problem } from '../src/problem.js';

const available =
  findSharedDatasets(process.cwd()) !== undefined || process.env['VERDICT_DATA_DIR'] !== undefined;
const skip = available ? false : 'no shared/datasets above cwd and no VERDICT_DATA_DIR';

/**
 * Records whose gold solution does not extract to the gold answer, with the reason. Checked
 * both ways: each listed id must still fail (so the list cannot go stale), every other record
 * must pass. Empty today: no malformed record was found in GSM8K train/test or GSM-Plus testmini.
 */
const MALFORMED: Readonly<Record<string, string>> = {};

function checkSolutions(problems: readonly Problem[]): {
  strict: number;
  flexible: number;
  failures: string[];
} {
  let strict = 0;
  let flexible = 0;
  const failures: string[] = [];
  for (const p of problems) {
    assert.ok(p.solution !== undefined, `${p.id} has a solution`);
    const s = answersEqual(extractionValue(extractStrict(p.solution)), p.answer);
    const f = answersEqual(extractionValue(extractFlexible(p.solution)), p.answer);
    if (s) strict++;
    if (f) flexible++;
    if (!(s && f)) failures.push(p.id);
  }
  return { strict, flexible, failures };
}

function assertFailuresAllowlisted(failures: readonly string[], ids: readonly string[]): void {
  const idSet = new Set(ids);
  const expected = Object.keys(MALFORMED).filter((id) => idSet.has(id));
  assert.deepEqual(
    [...failures].sort(),
    expected.sort(),
    `unexpected extraction failures: ${failures.slice(0, 10)}`,
  );
}

for (const split of ['train', 'test'] as const) {
  test(`GSM8K ${split}: every gold solution extracts to its gold answer (strict and flexible)`, {
    skip,
  }, () => {
    const problems = readGsm8k(split);
    assert.equal(problems.length, split === 'train' ? 7473 : 1319);
    const r = checkSolutions(problems);
    console.log(
      `gsm8k-${split}: n=${problems.length} strict=${r.strict} flexible=${r.flexible} failures=${r.failures.length}`,
    );
    assertFailuresAllowlisted(
      r.failures,
      problems.map((p) => p.id),
    );
    assert.ok(problems.every((p) => Number.isInteger(p.answer)));
    assert.equal(problems.filter((p) => p.answerText.includes(',')).length, split === 'train' ? 79 : 14);
    assert.equal(problems.filter((p) => (p.answer ?? 0) < 0).length, split === 'train' ? 3 : 2);
  });
}

test('GSM-Plus testmini: solutions extract to the string answers; None items are cannot-answer', {
  skip,
}, () => {
  const problems = readGsmPlus();
  assert.equal(problems.length, 2400);
  const r = checkSolutions(problems);
  console.log(
    `gsm-plus-testmini: n=${problems.length} strict=${r.strict} flexible=${r.flexible} failures=${r.failures.length}`,
  );
  assertFailuresAllowlisted(
    r.failures,
    problems.map((p) => p.id),
  );
  const none = problems.filter((p) => p.answer === null);
  assert.equal(none.length, 300);
  assert.ok(none.every((p) => p.meta['perturbationType'] === 'critical thinking'));
  assert.equal(problems.filter((p) => p.answerText.includes('/')).length, 7);
  const byType = new Map<string, number>();
  for (const p of problems)
    byType.set(String(p.meta['perturbationType']), (byType.get(String(p.meta['perturbationType'])) ?? 0) + 1);
  assert.equal(byType.size, 8);
  assert.ok([...byType.values()].every((n) => n === 300));
  // The phrase set alone (the #### None line removed) recognises every critical-thinking solution.
  const bodies = none.map((p) => (p.solution ?? '').replace(/####[^\n]*$/, ''));
  const recognised = bodies.filter((b) => isCannotAnswer(b)).length;
  console.log(
    `gsm-plus critical thinking: ${recognised}/${none.length} solutions recognised by the phrase set alone`,
  );
  assert.equal(recognised, none.length);
  // The independent `answer` field must equal the value read from the solution's #### line.
  const half = problems.find((p) => p.answerText === '1/2');
  assert.equal(half?.answer, 0.5);
});

test('SVAMP, GSM-Hard and MAWPS: every answer parses and round-trips through the checker', { skip }, () => {
  const sets: [string, Problem[], number][] = [
    ['svamp', readSvamp(), 1000],
    ['gsm-hard', readGsmHard(), 1319],
    ['mawps', readMawps(), 2065],
  ];
  for (const [name, problems, expected] of sets) {
    assert.equal(problems.length, expected, name);
    let ok = 0;
    for (const p of problems) {
      assert.ok(typeof p.answer === 'number' && Number.isFinite(p.answer), `${p.id} answer`);
      assert.ok(p.question.length > 0, `${p.id} question`);
      // The answer text, written as a final line, must read back to the same value.
      if (answersEqual(extractionValue(extractStrict(`#### ${p.answerText}`)), p.answer)) ok++;
    }
    console.log(`${name}: n=${problems.length} answers parsed=${ok}`);
    assert.equal(ok, expected, name);
  }
  assert.equal(new Set(readSvamp().map((p) => p.id)).size, 1000);
});

test('the pull manifest pins the exact bytes of the shared copies', { skip }, () => {
  let checked = 0;
  for (const s of DATASET_SOURCES) {
    if (s.sha256 === null) continue;
    const bytes = readFileSync(resolveDatasetFile(s.file));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), s.sha256, s.file);
    assert.equal(bytes.byteLength, s.bytes, s.file);
    checked++;
  }
  console.log(`manifest: ${checked} files match their pinned sha256`);
});
