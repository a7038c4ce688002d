import assert from 'node:assert/strict';
import { test } from 'node:test';
import { problemOutcomes } from './outcomes.js';
import { type SampledItem, scoreItems } from './score.js';

const ITEMS: SampledItem[] = [
  { id: 'a', gold: 3, greedy: '1+2=3\n#### 3', samples: ['#### 3', '#### 4', 'so 3'] },
  { id: 'b', gold: 5, greedy: 'it is 5', samples: ['#### 5', '#### 5', '#### 6'] },
  { id: 'c', gold: null, greedy: 'The price is not given.', samples: ['#### None', '#### 1', '#### 2'] },
];

test('per-problem outcomes in item order; their means are the suite accuracy, mean@k and maj@k', () => {
  const flexible = problemOutcomes(ITEMS, { k: 3 });
  assert.deepEqual(
    flexible.map((o) => [o.id, o.greedyCorrect, o.samples, o.samplesCorrect]),
    [
      ['a', true, 3, 2],
      ['b', true, 3, 2],
      ['c', true, 3, 1],
    ],
  );
  const strict = problemOutcomes(ITEMS, { k: 3, mode: 'strict' });
  // a: strict votes {3, 4, nothing} → 1 of 3 correct; greedy of b and c has no "#### N".
  assert.deepEqual(
    strict.map((o) => [o.greedyCorrect, o.samplesCorrect]),
    [
      [true, 1],
      [false, 2],
      [false, 1],
    ],
  );
  const scores = scoreItems(ITEMS, { k: 3 });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [mode, outs] of [
    ['flexible', flexible],
    ['strict', strict],
  ] as const) {
    const s = scores[mode];
    assert.equal(mean(outs.map((o) => (o.greedyCorrect ? 1 : 0))), s.accuracy, mode);
    assert.ok(Math.abs(mean(outs.map((o) => o.majAtK!)) - s.majAtK!) < 1e-12, mode);
    assert.ok(Math.abs(mean(outs.map((o) => o.samplesCorrect / o.samples)) - s.meanAtK!) < 1e-12, mode);
  }
  assert.ok(Math.abs(scores.flexible.meanAtK! - 5 / 9) < 1e-12);
  assert.ok(Math.abs(scores.strict.meanAtK! - 4 / 9) < 1e-12);
});

test('greedy only: no samples, maj@k null', () => {
  const [o] = problemOutcomes([{ id: 'x', gold: 2, greedy: '#### 2' }]);
  assert.deepEqual(o, { id: 'x', greedyCorrect: true, samples: 0, samplesCorrect: 0, majAtK: null });
});
