import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeAdvantages, informativeGroups } from './compute-advantages.js';
import { computeGae } from './gae.js';
import { computeGroupAdvantages } from './grpo-advantages.js';
import { whiten } from './whiten.js';

const groups = [
  [1, 0, null, 1],
  [0.5, 0.5, 0.5, null], // all agree: zero variance
  [null, null, 1, null], // one valid sample: zero variance
];

test('grpo: per-group normalisation, masked samples stay null and out of the statistics', () => {
  const out = computeAdvantages('grpo', { groups });
  assert.deepEqual(out.advantages[0], computeGroupAdvantages(groups[0]!).advantages);
  assert.equal(out.advantages[0]![2], null);
  assert.deepEqual(out.advantages[1], [0, 0, 0, null]);
  assert.equal(out.zeroVarianceGroups, 2);
  assert.equal(out.droppedGroups, 0);
});

test('grpo dropZeroVariance: groups whose rewards agree get null (out of the batch), counted', () => {
  const out = computeAdvantages('grpo', { groups, options: { dropZeroVariance: true } });
  assert.deepEqual(out.advantages[0], computeGroupAdvantages(groups[0]!).advantages);
  assert.deepEqual(out.advantages[1], [null, null, null, null]);
  assert.deepEqual(out.advantages[2], [null, null, null, null]);
  assert.equal(out.zeroVarianceGroups, 2);
  assert.equal(out.droppedGroups, 2);
});

test('informativeGroups keeps the groups with a learning signal and counts the others', () => {
  const { informative, dropped } = informativeGroups(groups, (g) => g);
  assert.deepEqual(informative, [groups[0]]);
  assert.equal(dropped, 2);
});

const sequences = [
  {
    reward: 1,
    logprobs: [-1, -2, -0.5],
    refLogprobs: [-1.2, -1.5, -0.5],
    values: [0.1, 0.2, 0.3],
    terminal: true,
  },
  { reward: 0, logprobs: [-0.3, -0.7], refLogprobs: [-0.4, -0.9], values: [0.05, -0.1], terminal: false },
];

test('gae: KL-shaped token rewards, GAE with the value head, whitened over every token of the step', () => {
  const opts = { gamma: 1, lambda: 0.95, klCoef: 0.1 };
  const out = computeAdvantages('gae', { sequences, options: opts });
  const raw = sequences.map((s) => {
    const rewards = s.logprobs.map((lp, t) => -0.1 * (lp - s.refLogprobs[t]!));
    rewards[rewards.length - 1]! += s.reward;
    return computeGae(
      { rewards, values: s.values, terminal: s.terminal, bootstrapValue: s.values.at(-1)! },
      { gamma: 1, lambda: 0.95 },
    );
  });
  const white = whiten(raw.flatMap((r) => [...r.advantages]));
  const flat = out.advantages.flatMap((a) => [...a]);
  for (const [i, x] of flat.entries()) assert.ok(Math.abs(x - white[i]!) < 1e-12);
  for (const [k, r] of out.returns.entries()) assert.deepEqual([...r], [...raw[k]!.returns]);
  // Whitened: mean 0 over the step's tokens.
  assert.ok(Math.abs(flat.reduce((a, x) => a + x, 0)) < 1e-9);
  // whiten: false keeps the raw GAE advantages.
  const unwhitened = computeAdvantages('gae', { sequences, options: { ...opts, whiten: false } });
  assert.deepEqual([...unwhitened.advantages[0]!], [...raw[0]!.advantages]);
});

test('gae klEstimator: k3 shapes the rewards with (r − 1) − log r instead of log π − log π_ref', () => {
  const opts = { gamma: 1, lambda: 1, klCoef: 1, whiten: false };
  const k1 = computeAdvantages('gae', { sequences, options: opts });
  const k3 = computeAdvantages('gae', { sequences, options: { ...opts, klEstimator: 'k3' } });
  // λ = γ = 1: A_0 + V_0 = Σ_t r_t, so the first return is the sum of the shaped rewards.
  const s = sequences[0]!;
  const sum = (f: (lp: number, ref: number) => number) =>
    s.reward - s.logprobs.reduce((a, lp, t) => a + f(lp, s.refLogprobs[t]!), 0);
  assert.ok(Math.abs(k1.returns[0]![0]! - sum((lp, ref) => lp - ref)) < 1e-12);
  assert.ok(Math.abs(k3.returns[0]![0]! - sum((lp, ref) => Math.expm1(ref - lp) - (ref - lp))) < 1e-12);
  assert.throws(
    () => computeAdvantages('gae', { sequences: [{ ...s, refLogprobs: undefined }], options: opts }),
    /sequences\[0\]\.refLogprobs/,
  );
});
