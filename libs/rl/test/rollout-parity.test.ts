import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, loadLlamaModel, locateSharedDir } from '@verdict/models';
import { createTrainer } from '../src/training/trainer.js';
import { createPolicyWorker } from '../src/worker/policy-worker.js';
import { batchFromRows } from './helpers.js';

test('rollout/training parity: KV-cache generation log-probs = training-graph and worker.score log-probs (mean |Δ| < 1e-5, fp32)', async (t) => {
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
    // The policy worker's forward-only scoring graph (behaviour log-probs of the learner) as well.
    const worker = createPolicyWorker({
      modelDir: dir,
      optimizer: { learningRate: 1e-5 },
      kl: { metric: false },
    });
    const scored = await worker.score(batch).finally(() => worker.close());
    for (const [what, lp] of [
      ['training graph', logprobs],
      ['worker.score', scored.logprobs],
    ] as const) {
      let sum = 0;
      let max = 0;
      let count = 0;
      gens.forEach((g, b) => {
        g.logprobs.forEach((rollout, j) => {
          // Position promptLen − 1 + j predicts generated token j.
          const train = lp[b * batch.seqLen + g.promptIds.length - 1 + j]!;
          const d = Math.abs(train - rollout);
          sum += d;
          max = Math.max(max, d);
          count++;
        });
      });
      t.diagnostic(
        `${what}: mean |Δ logp| ${(sum / count).toExponential(2)}, max ${max.toExponential(2)}, ${count} tokens`,
      );
      assert.equal(
        count,
        gens.reduce((s, g) => s + g.ids.length, 0),
      );
      assert.ok(count >= 30, `only ${count} generated tokens compared`);
      assert.ok(
        sum / count < 1e-5,
        `${what}: mean |Δ logp| = ${sum / count} (max ${max}) over ${count} tokens`,
      );
    }
  } finally {
    await trainer.close();
  }
});
