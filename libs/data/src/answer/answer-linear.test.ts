// Answer checking runs on client text (Score completions, gold answers) up to the 4 MB message
// limit, so every pattern must be linear in it. Each input below is one a quadratic pattern took
// seconds on at 100 KB; at these sizes a quadratic version would run for tens of minutes and hit
// the test timeout. No timing is asserted: finishing at all (and the right answer) is the check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arithmeticClaims } from './arithmetic-claims.js';
import { isNoneAnswer } from './cannot-answer.js';
import { checkAnswer } from './check-answer.js';
import { extractFlexible, extractStrict } from './extract.js';

const MB = 1 << 20;
const LIMIT = { timeout: 60_000 };

test('a `#### ....x` answer line of 2 MB is read in linear time (no /[.!]+$/ retry per dot)', LIMIT, () => {
  for (const mark of ['.', '!']) {
    const text = `#### ${mark.repeat(2 * MB)}x`;
    assert.deepEqual(extractStrict(text), { kind: 'missing' });
    assert.equal(isNoneAnswer(text.slice(5)), false);
    assert.equal(checkAnswer(text, null, 'strict'), false);
    assert.equal(checkAnswer(text, 5, 'flexible'), false);
  }
});

test('trailing punctuation is still trimmed from a none answer', LIMIT, () => {
  assert.equal(isNoneAnswer(`None${'.'.repeat(MB)}`), true);
  assert.equal(isNoneAnswer(`cannot be determined!!${'!'.repeat(MB)}`), true);
  assert.deepEqual(extractStrict(`#### None${'.'.repeat(MB)}`).kind, 'none');
});

test('a 2 MB run of thousands groups is scanned once for arithmetic claims', LIMIT, () => {
  const run = `1${',111'.repeat(MB / 2)},1x`;
  assert.deepEqual(arithmeticClaims(run), []);
  // A claim after the run is still found, and one inside a grouped number is read whole.
  const claims = arithmeticClaims(`${run} then 1,234 + 1 = 1,235`);
  assert.equal(claims.length, 1);
  assert.equal(claims[0]?.a, 1234);
  assert.equal(claims[0]?.holds, true);
});

test('other long runs a client can send are read in linear time', LIMIT, () => {
  const cases = [
    '<<'.repeat(MB),
    '#'.repeat(2 * MB),
    `####${' '.repeat(2 * MB)}`,
    '1 '.repeat(MB),
    '.1'.repeat(MB),
    '1/'.repeat(MB),
    `1${'.1'.repeat(MB)}`,
    `1+1=${'1'.repeat(MB)}${'.'.repeat(MB)}`,
  ];
  for (const text of cases) {
    extractStrict(text);
    extractFlexible(text);
    arithmeticClaims(text);
  }
  assert.equal(extractFlexible('1 '.repeat(MB)).kind, 'number');
});
