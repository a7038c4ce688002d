import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCannotAnswer, isNoneAnswer } from './cannot-answer.js';
import { answersEqual, checkAnswer } from './check-answer.js';
import { extractFlexible, extractionValue, extractStrict } from './extract.js';
import { parseNumber } from './parse-number.js';

test('parseNumber normalises the forms gold answers and models write', () => {
  const cases: [string, number | undefined][] = [
    ['27', 27],
    ['1,600', 1600],
    ['109,200,000', 109200000],
    ['$18.50', 18.5],
    ['$ 18', 18],
    ['-$5', -5],
    ['50%', 50],
    ['12 inches', 12],
    ['4.33.', 4.33],
    ['-2', -2],
    ['−3', -3],
    ['3/4', 0.75],
    ['1/10', 0.1],
    ['2 1/2', 2.5],
    ['1.5e3', 1500],
    ['0.0016791648', 0.0016791648],
    ['None', undefined],
    ['', undefined],
    ['5/0', undefined],
  ];
  for (const [text, expected] of cases) assert.equal(parseNumber(text), expected, text);
});

test('strict extraction reads only the last #### line', () => {
  assert.deepEqual(extractionValue(extractStrict('a 3\n#### 1,080')), 1080);
  assert.deepEqual(extractionValue(extractStrict('#### 2\nthen\n#### $7.')), 7);
  assert.equal(extractStrict('the answer is 5').kind, 'missing');
  assert.equal(extractStrict('####   \n5').kind, 'missing');
  assert.equal(extractStrict("We don't know the price\n#### None").kind, 'none');
  assert.equal(extractStrict('#### cannot be determined').kind, 'none');
  assert.equal(extractStrict('#### banana').kind, 'missing');
});

test('flexible extraction takes the last number unless a cannot-answer statement follows it', () => {
  assert.equal(extractionValue(extractFlexible('48/4=<<48/4=12>>12. So 12+15=27 apples.')), 27);
  assert.equal(extractionValue(extractFlexible('Total is 10-5 = 5')), 5);
  assert.equal(extractionValue(extractFlexible('The answer is -7.')), -7);
  assert.equal(extractionValue(extractFlexible('She has 3 cats, but the price is not given.')), null);
  assert.equal(extractionValue(extractFlexible('It cannot be determined at first; in fact it is 9')), 9);
  assert.equal(extractFlexible('no digits here').kind, 'missing');
});

test('cannot-answer detection', () => {
  assert.ok(isCannotAnswer('We don’t know how many fish are in each aquarium.'));
  assert.ok(isCannotAnswer('There is not enough information to answer.'));
  assert.ok(!isCannotAnswer('We know she has 4 fish.'));
  assert.ok(isNoneAnswer('None'));
  assert.ok(isNoneAnswer(' none. '));
  assert.ok(!isNoneAnswer('5'));
});

test('answersEqual: tolerance, null only equals null, missing equals nothing', () => {
  assert.ok(answersEqual(0.1 + 0.2, 0.3));
  assert.ok(answersEqual(9284017268534.4, 9284017268534.4));
  assert.ok(!answersEqual(4.333, 4.33));
  assert.ok(!answersEqual(5, 6));
  assert.ok(answersEqual(null, null));
  assert.ok(!answersEqual(0, null));
  assert.ok(!answersEqual(null, 0));
  assert.ok(!answersEqual(undefined, 0));
  assert.ok(checkAnswer('so #### 72', 72, 'strict'));
  assert.ok(!checkAnswer('so 72', 72, 'strict'));
  assert.ok(checkAnswer('so 72', 72, 'flexible'));
});
