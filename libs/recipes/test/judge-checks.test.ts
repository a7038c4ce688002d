import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateToyProblems, JUDGE_TEMPLATE } from '@verdict/data';
import { claimItems, solverAnswerText, solverPrompt } from '../src/index.js';

describe('claimItems (per-claim judge items)', () => {
  it('one item per step line up to and including the first wrong step, each labeled by its own arithmetic', () => {
    const question = 'Q?';
    const solution = [
      'She gets 5 more, so she has 7 + 5 = 12 apples.',
      'She keeps one of 2 equal piles, so she has 12 / 2 = 7 apples.',
      'She gets 3 more, so she has 7 + 3 = 10 apples.',
      '#### 10',
    ].join('\n');
    const items = claimItems([{ question, solution }]);
    assert.deepEqual(
      items.map((c) => [c.prefix.split('\n').length, c.holds]),
      [
        [1, true],
        [2, false],
      ],
      'the line after the slip says nothing new and is left out',
    );
    assert.equal(items[1]!.prefix, solution.split('\n').slice(0, 2).join('\n'));
    assert.deepEqual(claimItems([{ question, solution: 'no steps\n#### 4' }]), []);
  });

  it('every step of a gold toy solution is an item that holds', () => {
    const problems = generateToyProblems(50, { seed: 'claim-items', split: 'id' });
    const items = claimItems(problems.map((p) => ({ question: p.question, solution: p.solution ?? '' })));
    assert.equal(
      items.length,
      problems.reduce((n, p) => n + p.spec.steps.length, 0),
    );
    assert.ok(items.every((c) => c.holds));
  });
});

describe('solverPrompt', () => {
  it('is the judge prompt cut right after "Solution:" (what phase 0 taught the judge to continue)', () => {
    const p = solverPrompt('How many?');
    assert.ok(JUDGE_TEMPLATE.text.startsWith('Question: {question}\nSolution:'));
    assert.equal(p, 'Question: How many?\nSolution:');
  });
});

describe('solverAnswerText', () => {
  it('keeps the solution through its first "#### n" line and drops what runs on', () => {
    assert.equal(solverAnswerText(' 2 + 2 = 4 apples.\n#### 4\n#### 9 = 3\n'), ' 2 + 2 = 4 apples.\n#### 4');
    assert.equal(solverAnswerText(' 2 + 2 = 4.\n#### 4'), ' 2 + 2 = 4.\n#### 4');
    assert.equal(solverAnswerText(' no answer'), ' no answer');
  });
});
