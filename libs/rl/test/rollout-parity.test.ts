import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, loadLlamaModel, locateSharedDir } from '@verdict/models';
import { createTrainer } from '../src/training/trainer.js';
import { batchFromRows } from './helpers.js';

test('rollout/training parity: KV-cache generation log-probs = training-graph log-probs (mean |Δ| < 1e-5, fp32)', async (t) => {
  const dir = join(locateSharedDir(), 'fixtures', 'stories260k');
  const model = loadLlamaModel(dir);
  const prompts = ['Once upon a time', 'The little dog saw a big red ball and'];
  let gens: Awaited<ReturnType<typeof generate>>;
  try {
    // Two prompts of different lengths: generation left-pads them, training right-pads.
    gens = await generate(model, prompts, { maxNewTokens: 24, temperature: 1, seed: 3 });
  } finally {
    await model.close();
  }
  const rows = gens.map((g) => [...g.promptIds, ...g.ids]);
  const batch = batchFromRows(rows);
  const trainer = createTrainer({
    config: model.config,
    params: model.weights,
    loss: { kind: 'sft' },
    schedule: { kind: 'constant', peakLr: 0 },
  });
  try {
    const { logprobs } = await trainer.forwardBackward(batch);
    let sum = 0;
    let max = 0;
    let count = 0;
    gens.forEach((g, b) => {
      g.logprobs.forEach((rollout, j) => {
        // Position promptLen − 1 + j predicts generated token j.
        const train = logprobs[b * batch.seqLen + g.promptIds.length - 1 + j]!;
        const d = Math.abs(train - rollout);
        sum += d;
        max = Math.max(max, d);
        count++;
      });
    });
    t.diagnostic(
      `mean |Δ logp| ${(sum / count).toExponential(2)}, max ${max.toExponential(2)}, ${count} tokens`,
    );
    assert.equal(
      count,
      gens.reduce((s, g) => s + g.ids.length, 0),
    );
    assert.ok(count >= 30, `only ${count} generated tokens compared`);
    assert.ok(sum / count < 1e-5, `mean |Δ logp| = ${sum / count} (max ${max}) over ${count} tokens`);
  } finally {
    await trainer.close();
  }
});
