import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeGroupAdvantages } from '../src/advantages/grpo-advantages.js';
import { completionValues, type PolicySample, policyBatch } from '../src/training/policy-batch.js';
import { createTrainer } from '../src/training/trainer.js';
import { randomRows, tinyConfig, tinyParams } from './helpers.js';

test('GRPO steps from packed rollouts raise the log-prob of above-mean completions and lower the rest', async () => {
  const config = tinyConfig();
  const trainer = createTrainer({
    config,
    params: tinyParams(config, 3),
    loss: { kind: 'policy', policy: { clipLow: 0.2, clipHigh: 0.28 } },
    schedule: { kind: 'constant', peakLr: 5e-3 },
    optimizer: { weightDecay: 0 },
  });
  try {
    const prompt = [1, 5, 9];
    const completions = randomRows(4, 6, config.vocabSize, 11).map((r, i) => r.slice(0, 3 + i)); // ragged
    const group = computeGroupAdvantages([1, 0, 0, 1], { scaleByStd: true });
    const advantages = group.advantages.map((a) => a!);
    const draft = policyBatch(
      completions.map((c) => ({
        promptIds: prompt,
        completionIds: c,
        advantage: 0,
        behaviourLogprobs: c.map(() => 0),
      })),
    );
    const before = await trainer.logprobs(draft);
    const seqLogp = (lp: Float32Array) =>
      completions.map((c, b) =>
        completionValues(draft, lp, b, prompt.length, c.length).reduce((s, v) => s + v, 0),
      );
    const samples: PolicySample[] = completions.map((c, b) => ({
      promptIds: prompt,
      completionIds: c,
      advantage: advantages[b]!,
      behaviourLogprobs: completionValues(draft, before, b, prompt.length, c.length),
    }));
    const batch = policyBatch(samples);
    assert.deepEqual(batch.lossMask, draft.lossMask);
    const first = await trainer.trainStep([batch]);
    assert.equal(first.metrics['ratio_mean'], 1); // first epoch: behaviour = current weights
    for (let i = 0; i < 3; i++) await trainer.trainStep([batch]);
    const s0 = seqLogp(before);
    const s1 = seqLogp(await trainer.logprobs(draft));
    completions.forEach((_, b) => {
      const moved = s1[b]! - s0[b]!;
      if (advantages[b]! > 0) assert.ok(moved > 0, `sample ${b} (A>0) log-prob moved ${moved}`);
      else assert.ok(moved < 0, `sample ${b} (A<0) log-prob moved ${moved}`);
    });
  } finally {
    await trainer.close();
  }
});
