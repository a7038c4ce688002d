import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateToyProblems } from '../toy/generator.js';
import { arithmeticClaims, arithmeticHolds } from './arithmetic-claims.js';

test('arithmetic claims: toy lines and GSM8K calculator annotations, each checked', () => {
  const text =
    ' 9 are gone, so it has 36 - 9 = 26 muffins.\nOne of 3 equal boxes holds 27 / 3 = 9 muffins.\n' +
    'The stock grows 4 times, so it has 9 * 4 = 36 muffins.\nShe gets 5 more: <<7+5=12>> apples.\n#### 36';
  const claims = arithmeticClaims(text);
  assert.deepEqual(
    claims.map((c) => [c.a, c.op, c.b, c.claimed, c.holds]),
    [
      [36, '-', 9, 26, false],
      [27, '/', 3, 9, true],
      [9, '*', 4, 36, true],
      [7, '+', 5, 12, true],
    ],
  );
  assert.equal(claims[0]!.value, 27);
  assert.equal(arithmeticHolds(text), false);
  assert.equal(arithmeticHolds(text.replace('= 26', '= 27')), true);
  assert.equal(arithmeticHolds('#### 12'), true, 'no claim: nothing wrong');
});

test('arithmetic claims: decimals to the written precision, signs, separators, ×/÷, division by zero', () => {
  const holds = (s: string) => arithmeticClaims(s).map((c) => c.holds);
  assert.deepEqual(holds('10 / 3 = 3.33 and 10 / 3 = 3.3 and 10 / 3 = 3 and 10 / 4 = 2.5'), [
    true,
    false,
    false,
    true,
  ]);
  assert.deepEqual(
    holds('2 / 3 = 0.667, 3 - -2 = 5, -4 + 1 = -3, 1,200 × 2 = 2,400, 9 ÷ 3 = 3, 4 x 5 = 20'),
    [true, true, true, true, true, true],
  );
  assert.deepEqual(holds('5 / 0 = 0'), [false]);
  assert.deepEqual(
    holds('10-5=5 then 12 + 3 = 150'),
    [true, false],
    '"150" is not "15" followed by more text',
  );
  assert.deepEqual(holds('item x2 + 3 = 5'), [], 'a number glued to a word is no operand');
  assert.deepEqual(holds('she has 8 + 6 = $14, then $14 - $4 = $10'), [true, true]);
});

test('arithmetic claims: every gold toy solution holds, and a one-step slip is caught', () => {
  const problems = generateToyProblems(300, { seed: 'claims', split: 'id' });
  for (const p of problems) {
    const solution = p.solution ?? '';
    const claims = arithmeticClaims(solution);
    assert.equal(claims.length, p.spec.steps.length, solution);
    assert.ok(
      claims.every((c) => c.holds),
      solution,
    );
    const slipped = solution.replace(
      /= (\$?)(\d+)/,
      (_, cur: string, r: string) => `= ${cur}${Number(r) + 1}`,
    );
    assert.equal(arithmeticHolds(slipped), false, slipped);
  }
});
