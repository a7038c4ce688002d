import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../prng.js';
import { binomial, majAtK, majorityVoteCredit, type VoteAnswer } from './maj-at-k.js';

/** Every size-k subset of [0, n), by recursion. */
function* subsets(n: number, k: number, start = 0, chosen: number[] = []): Generator<number[]> {
  if (chosen.length === k) {
    yield chosen;
    return;
  }
  for (let i = start; i <= n - (k - chosen.length); i++) yield* subsets(n, k, i + 1, [...chosen, i]);
}

function bruteForce(answers: readonly VoteAnswer[], gold: number | null, k: number): number {
  let sum = 0;
  let count = 0;
  for (const s of subsets(answers.length, k)) {
    sum += majorityVoteCredit(
      s.map((i) => answers[i]),
      gold,
    );
    count++;
  }
  assert.equal(count, binomial(answers.length, k));
  return sum / count;
}

test('majority vote credit: strict win, ties split, abstentions ignored', () => {
  assert.equal(majorityVoteCredit([1, 1, 2], 1), 1);
  assert.equal(majorityVoteCredit([1, 2, 2], 1), 0);
  assert.equal(majorityVoteCredit([1, 2, 3], 1), 1 / 3);
  assert.equal(majorityVoteCredit([1, 2, undefined, undefined], 1), 1 / 2);
  assert.equal(majorityVoteCredit([undefined, undefined], 1), 0);
  assert.equal(majorityVoteCredit([null, null, 3], null), 1);
  assert.equal(majorityVoteCredit([1.0000000001, 1], 1), 1);
});

test('maj@k equals brute-force enumeration of all subsets on small cases', () => {
  const rng = createRng(42);
  const pool: VoteAnswer[] = [1, 2, 3, null, undefined];
  let cases = 0;
  for (let trial = 0; trial < 300; trial++) {
    const n = rng.int(1, 10);
    const answers = Array.from({ length: n }, () => rng.pick(pool));
    const gold = rng.pick<number | null>([1, 2, null]);
    for (let k = 1; k <= n; k++) {
      const exact = majAtK(answers, gold, k);
      const brute = bruteForce(answers, gold, k);
      assert.ok(
        Math.abs(exact - brute) < 1e-12,
        `n=${n} k=${k} ${JSON.stringify(answers)} gold=${gold}: ${exact} vs ${brute}`,
      );
      cases++;
    }
  }
  assert.ok(cases > 1000);
});

test('maj@1 is the plain sample accuracy and maj@n is the full vote', () => {
  const answers: VoteAnswer[] = [5, 5, 7, undefined, 5, 7, 7, 7];
  assert.ok(Math.abs(majAtK(answers, 5, 1) - 3 / 8) < 1e-15);
  assert.equal(majAtK(answers, 5, answers.length), majorityVoteCredit(answers, 5));
  assert.equal(majAtK(answers, 9, 3), 0);
  assert.throws(() => majAtK(answers, 5, 9), RangeError);
  // Large n stays finite and in range (doubles for C(64, 32) ≈ 1.8e18).
  const many = Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 1 : i % 3));
  const v = majAtK(many, 1, 32);
  assert.ok(v >= 0 && v <= 1);
});
