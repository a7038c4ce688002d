import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Problem } from '../problem.js';
import { ORACLE_MODEL, WRONG_MODEL, wrongNumber } from './pseudo-models.js';
import { scoreItems } from './score.js';

test('strict and flexible scored side by side, with maj@k and per-category breakdown', () => {
  const scores = scoreItems(
    [
      { id: 'a', gold: 3, category: 'x', greedy: '1+2=3\n#### 3', samples: ['#### 3', '#### 4', 'so 3'] },
      { id: 'b', gold: 5, category: 'x', greedy: 'it is 5', samples: ['#### 5', '#### 5', '#### 6'] },
      {
        id: 'c',
        gold: null,
        category: 'y',
        greedy: 'The price is not given.',
        samples: ['#### None', '#### 1', '#### 2'],
      },
    ],
    { k: 3 },
  );
  assert.equal(scores.n, 3);
  assert.equal(scores.strict.correct, 1);
  assert.equal(scores.flexible.correct, 3);
  assert.equal(scores.accuracy, scores.strict.accuracy);
  // a: strict votes {3,4,missing} → tie 1/2; flexible {3,4,3} → 1. b: 1 both. c: three-way tie → 1/3.
  assert.ok(Math.abs((scores.strict.majAtK ?? -1) - (1 / 2 + 1 + 1 / 3) / 3) < 1e-12);
  assert.ok(Math.abs((scores.flexible.majAtK ?? -1) - (1 + 1 + 1 / 3) / 3) < 1e-12);
  assert.deepEqual(Object.keys(scores.byCategory ?? {}), ['x', 'y']);
  assert.equal(scores.byCategory?.['x']?.n, 2);
  assert.equal(scores.byCategory?.['y']?.flexible.accuracy, 1);
  assert.throws(() => scoreItems([{ id: 'd', gold: 1, greedy: '', samples: ['1'] }], { k: 2 }), /d has 1/);
});

test('oracle scores 1 and wrong scores 0 on awkward golds', () => {
  const golds: [number | null, string, string | undefined][] = [
    [1600, '1,600', 'x\n#### 1,600'],
    [0.5, '1/2', 'half\n#### 1/2'],
    [null, 'None', "We don't know\n#### None"],
    [51, '51', '( 76.0 - 25.0 )'],
    [9284017268534.4, '9284017268534.4', undefined],
    [0, '0', undefined],
    [-3, '-3', undefined],
  ];
  const problems: Problem[] = golds.map(([answer, answerText, solution], i) => ({
    id: `p${i}`,
    source: 'gsm8k',
    question: 'q',
    answer,
    answerText,
    ...(solution !== undefined ? { solution } : {}),
    meta: {},
  }));
  const run = (model: typeof ORACLE_MODEL) =>
    scoreItems(problems.map((p) => ({ id: p.id, gold: p.answer, greedy: model.answer(p) })));
  const oracle = run(ORACLE_MODEL);
  assert.equal(oracle.strict.accuracy, 1);
  assert.equal(oracle.flexible.accuracy, 1);
  const wrong = run(WRONG_MODEL);
  assert.equal(wrong.strict.accuracy, 0);
  assert.equal(wrong.flexible.accuracy, 0);
  assert.notEqual(wrongNumber(9284017268534.4), 9284017268534.4);
});
