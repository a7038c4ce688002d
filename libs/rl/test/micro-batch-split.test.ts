import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LossAggregation } from '../src/losses/aggregate.js';
import type { ParamMap } from '../src/optim/param-map.js';
import { type PolicySample, policyBatch } from '../src/training/policy-batch.js';
import { createTrainer, microBatchWeight } from '../src/training/trainer.js';
import { randomRows, tinyConfig, tinyParams } from './helpers.js';

// Ragged completions (3..10 tokens) with advantages of both signs: micro-batches of different sizes
// hold very different token counts, which is where a mean of micro-batch means goes wrong.
const config = tinyConfig();
const prompt = [1, 5, 9];
const samples: PolicySample[] = randomRows(6, 10, config.vocabSize, 21).map((r, i) => {
  const completionIds = r.slice(0, [3, 10, 4, 9, 5, 8][i]!);
  return {
    promptIds: prompt,
    completionIds,
    advantage: [1.2, -0.7, 0.4, -1.1, 0.9, -0.3][i]!,
    behaviourLogprobs: completionIds.map(() => -3.3),
  };
});

async function oneUpdate(
  aggregation: LossAggregation,
  split: readonly number[],
): Promise<{ params: ParamMap; loss: number; gradNorm: number; cos: number | undefined }> {
  const trainer = createTrainer({
    config,
    params: tinyParams(config, 5),
    loss: { kind: 'policy', policy: { aggregation, clipLow: 0.2, clipHigh: 0.2 } },
    schedule: { kind: 'constant', peakLr: 1e-2 },
    optimizer: { weightDecay: 0 },
    maxGradNorm: 0,
  });
  try {
    const micro: ReturnType<typeof policyBatch>[] = [];
    let start = 0;
    for (const size of split) {
      micro.push(policyBatch(samples.slice(start, start + size)));
      start += size;
    }
    const r = await trainer.trainStep(micro);
    return {
      params: new Map([...trainer.params].map(([k, v]) => [k, v.slice()])),
      loss: r.loss,
      gradNorm: r.gradNorm,
      cos: r.metrics['grad_halves_cosine'],
    };
  } finally {
    await trainer.close();
  }
}

function maxParamDiff(a: ParamMap, b: ParamMap): number {
  let worst = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  return worst;
}

for (const aggregation of ['token-mean', 'sequence-mean'] as const) {
  test(`${aggregation}: an update is the same however its rows are split into micro-batches`, async () => {
    const whole = await oneUpdate(aggregation, [6]);
    for (const split of [
      [1, 5],
      [2, 2, 2],
      [5, 1],
    ]) {
      const parts = await oneUpdate(aggregation, split);
      const where = `${aggregation}, split ${split.join('+')}`;
      assert.ok(
        Math.abs(parts.loss - whole.loss) <= 1e-5 * Math.abs(whole.loss),
        `${where}: loss ${parts.loss} vs ${whole.loss}`,
      );
      assert.ok(
        Math.abs(parts.gradNorm - whole.gradNorm) <= 1e-4 * whole.gradNorm,
        `${where}: grad norm ${parts.gradNorm} vs ${whole.gradNorm}`,
      );
      // Adam's first step moves each weight by ~lr·sign(g): a wrong weighting flips or shrinks
      // some steps by ~lr (1e-2); float32 summation order stays far below that.
      const d = maxParamDiff(parts.params, whole.params);
      assert.ok(d < 1e-4, `${where}: params differ by ${d}`);
      assert.ok(
        parts.cos !== undefined && Number.isFinite(parts.cos),
        `${where}: halves cosine ${parts.cos}`,
      );
    }
  });
}

test('micro-batch weight: loss-mask tokens for token-mean, rows with any for sequence-mean', () => {
  const batch = policyBatch([
    ...samples.slice(0, 3),
    { ...samples[0]!, completionIds: [] as number[], behaviourLogprobs: [] },
  ]);
  assert.equal(microBatchWeight(batch, 'token-mean'), 3 + 10 + 4);
  assert.equal(microBatchWeight(batch, 'sequence-mean'), 3);
});
