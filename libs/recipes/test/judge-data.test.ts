import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  generateToyProblems,
  JUDGE_NO,
  JUDGE_YES,
  renderJudgePrompt,
  writeToyTokenizer,
} from '@verdict/data';
import { loadModelTokenizer } from '@verdict/models';
import { judgeSequences, judgeSolverSequences } from '../src/toy/judge-data.js';
import { weightedBatch } from '../src/toy/train-examples.js';

const dir = mkdtempSync(join(tmpdir(), 'verdict-judge-data-'));
writeToyTokenizer(dir);
const tokenizer = loadModelTokenizer(dir);
const problems = generateToyProblems(5, { seed: 'judge-data', split: 'id' }).map((p) => ({
  question: p.question,
  solution: p.solution!,
}));
const idOf = (word: string) => tokenizer.encode(word, { addSpecialTokens: false })[0]!;

describe('judge training sequences', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a batch row with targets trains position t on targets[t+1] while the input stays ids; without, on ids[t+1]', () => {
    const plain = { ids: [1, 5, 6, 7], weights: [0, 1, 1, 1] };
    const verdicts = { ids: [1, 5, 6, 7], weights: [0, 0.5, 0.5, 1], targets: [1, 9, 8, 9] };
    const b = weightedBatch([plain, verdicts]);
    assert.equal(b.seqLen, 3);
    assert.deepEqual(Array.from(b.inputIds), [1, 5, 6, 1, 5, 6]);
    assert.deepEqual(Array.from(b.targets), [5, 6, 7, 9, 8, 9]);
    assert.deepEqual(Array.from(b.lossMask), [1, 1, 1, 0.5, 0.5, 1]);
  });

  it('the solver phase puts weight 1 on exactly the solution tokens and has no verdict', () => {
    for (const [i, seq] of judgeSolverSequences(tokenizer, problems).entries()) {
      const weighted = seq.ids.filter((_, t) => seq.weights[t] === 1);
      assert.equal(tokenizer.decode(weighted).trim(), problems[i]!.solution);
      assert.ok(seq.weights.every((w) => w === 0 || w === 1));
      // The judge prompt as the judge will read it, nothing appended (no verdict token).
      const prompt = renderJudgePrompt(problems[i]!.question, problems[i]!.solution).text;
      assert.deepEqual(seq.ids, tokenizer.encode(prompt));
    }
  });

  it('a verdict sequence ends in Yes/No with weight 1; a correct one spreads the LM weight over its solution', () => {
    const items = [
      { ...problems[0]!, label: true },
      { ...problems[1]!, label: false },
    ];
    const [yes, no] = judgeSequences(tokenizer, items, 0.5);
    assert.equal(yes!.ids.at(-1), idOf(JUDGE_YES));
    assert.equal(no!.ids.at(-1), idOf(JUDGE_NO));
    assert.equal(yes!.weights.at(-1), 1);
    assert.equal(no!.weights.at(-1), 1);
    const lm = (s: typeof yes) => s!.weights.slice(0, -1).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(lm(yes) - 0.5) < 1e-9, `LM weight ${lm(yes)}`);
    assert.equal(lm(no), 0, 'no LM loss on a wrong solution');
    // The weighted span is the same one the solver phase trains on.
    const solver = judgeSolverSequences(tokenizer, [problems[0]!])[0]!;
    assert.deepEqual(
      yes!.weights.slice(0, -1).map((w) => w > 0),
      solver.weights.map((w) => w > 0),
    );
  });
});
