import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateToyProblems } from '@verdict/data';
import { chainLabelMetrics } from '../src/index.js';

const [problem] = generateToyProblems(1, { seed: 'chain-labels', split: 'id', difficulty: 2 });
const gold = problem!.solution!;
const answer = problem!.answer!;
// The same answer reached by a wrong first line: graded correct, chain wrong.
const lucky = gold.replace(/= (\d+)/, (_m, r: string) => `= ${Number(r) + 1}`);
const wrong = gold.replace(`#### ${answer}`, `#### ${answer + 3}`);

describe('chainLabelMetrics', () => {
  it('counts right answers from wrong chains and scores a perfect chain checker against the answers', () => {
    assert.notEqual(lucky, gold);
    const samples = [
      { solution: ` ${gold} `, goldSolution: gold, correct: true }, // whitespace does not matter
      { solution: gold, goldSolution: gold, correct: true },
      { solution: lucky, goldSolution: gold, correct: true },
      { solution: wrong, goldSolution: gold, correct: false },
      { solution: wrong, goldSolution: gold, correct: false },
    ];
    const m = chainLabelMetrics(samples, [0.9, 0.8, 0.1, 0.2, 0.7]);
    assert.equal(m.chainCorrect, 2);
    assert.equal(m.correctWithWrongChain, 1 / 3);
    // Checker scores 1,1,0 on the positives, 0,0 on the negatives: pairs (pos, neg) = 6, won 4,
    // tied 2 (the lucky hit against each wrong sample) → (4 + 2 × 0.5) / 6.
    assert.equal(m.chainCheckerAuroc, 5 / 6);
    // Against the chains: positives {0.9, 0.8}, negatives {0.1, 0.2, 0.7} → all 6 pairs won.
    assert.equal(m.judgeAurocOnChains, 1);
  });

  it('a sample without a gold solution never counts as a right chain; no correct sample gives NaN', () => {
    const m = chainLabelMetrics(
      [
        { solution: gold, goldSolution: undefined, correct: false },
        { solution: wrong, goldSolution: gold, correct: false },
      ],
      [0.5, 0.5],
    );
    assert.equal(m.chainCorrect, 0);
    assert.ok(Number.isNaN(m.correctWithWrongChain));
    assert.ok(Number.isNaN(m.chainCheckerAuroc));
  });

  it('rejects scores that do not match the samples', () => {
    assert.throws(
      () => chainLabelMetrics([{ solution: gold, goldSolution: gold, correct: true }], []),
      /0 scores for 1 samples/,
    );
  });
});
