import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Problem } from '../problem.js';
import { partitionLabeled } from './partition.js';

const problems: Problem[] = Array.from({ length: 100 }, (_, i) => ({
  id: `p-${i}`,
  source: 'gsm8k',
  question: `What is ${i} plus one?`,
  answer: 7000 + i,
  answerText: `${7000 + i}`,
  solution: `${i}+1=${7000 + i}\n#### ${7000 + i}`,
  meta: { split: 'train' },
}));

test('partition is deterministic by seed, sized by ratio, and covers every problem once', () => {
  const a = partitionLabeled(problems, { labeledRatio: 0.3, seed: 7 });
  const b = partitionLabeled(problems, { labeledRatio: 0.3, seed: 7 });
  const c = partitionLabeled(problems, { labeledRatio: 0.3, seed: 8 });
  assert.equal(a.labeled.length, 30);
  assert.equal(a.unlabeled.length, 70);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.labeled.map((p) => p.id),
    c.labeled.map((p) => p.id),
  );
  const ids = [...a.labeled.map((p) => p.id), ...a.unlabeled.map((p) => p.id)].sort();
  assert.deepEqual(ids, problems.map((p) => p.id).sort());
  assert.equal(partitionLabeled(problems, { labeledRatio: 0, seed: 1 }).labeled.length, 0);
  assert.equal(partitionLabeled(problems, { labeledRatio: 1, seed: 1 }).unlabeled.length, 0);
  assert.throws(() => partitionLabeled(problems, { labeledRatio: 1.5, seed: 1 }), RangeError);
});

test('unlabeled items carry no answer, answer text or solution, not even in JSON', () => {
  const { unlabeled } = partitionLabeled(problems, { labeledRatio: 0.2, seed: 3 });
  for (const u of unlabeled) {
    assert.deepEqual(Object.keys(u).sort(), ['id', 'meta', 'question', 'source']);
    const original = problems.find((p) => p.id === u.id)!;
    // Every answer is 7000+i, a number that appears nowhere in the question text.
    assert.ok(!JSON.stringify(u).includes(String(original.answer)), u.id);
    assert.ok(!('answer' in u) && !('solution' in u) && !('answerText' in u));
  }
  // The source objects are untouched (a copy was made, not a delete on shared objects).
  assert.ok(problems.every((p) => p.answer !== undefined && p.solution !== undefined));
});
