import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createSessionPool } from '@verdict/graph';
import { createReferencePolicy } from '../src/training/reference-policy.js';
import type { TrainBatch } from '../src/training/train-batch.js';
import { createTrainer } from '../src/training/trainer.js';
import { batchFromRows, randomRows, tinyConfig, tinyParams } from './helpers.js';

const config = tinyConfig();
const pool = createSessionPool({ workers: 1 });
after(() => pool.close());
const base = batchFromRows(randomRows(3, 10, config.vocabSize, 42), 4);
const n = base.batchSize * base.seqLen;

function withInputs(batch: TrainBatch, inputs: Record<string, ArrayLike<number>>): TrainBatch {
  return { ...batch, tokenInputs: inputs };
}

function varied(seed: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * scale);
}

test('all advantages zero → every policy gradient element is exactly 0', async () => {
  const trainer = createTrainer({
    config,
    params: tinyParams(config),
    loss: { kind: 'policy', policy: { clipLow: 0.2, clipHigh: 0.28 } },
    schedule: { kind: 'constant', peakLr: 1e-3 },
    pool,
  });
  try {
    // Behaviour log-probs deliberately off-policy so ratios ≠ 1 and some are clipped.
    const lp = await trainer.logprobs(base);
    const behaviour = lp.map((x, i) => x + varied(3, 0.5)[i]!);
    const r = await trainer.forwardBackward(
      withInputs(base, { advantages: new Float32Array(n), behaviour_logprobs: behaviour }),
    );
    let nonZero = 0;
    for (const g of r.grads.values()) for (const x of g) if (x !== 0) nonZero++;
    assert.equal(nonZero, 0);
    assert.ok(r.loss === 0, `loss ${r.loss}`); // −0 counts: −A·ratio with A = 0
    // With advantages the same batch does give a gradient (the check is not vacuous).
    const r2 = await trainer.forwardBackward(
      withInputs(base, { advantages: varied(5, 1), behaviour_logprobs: behaviour }),
    );
    assert.ok([...r2.grads.values()].some((g) => g.some((x) => x !== 0)));
  } finally {
    await trainer.close();
  }
});

test('first PPO epoch: behaviour log-probs from the same weights give every ratio exactly 1', async () => {
  const trainer = createTrainer({
    config,
    params: tinyParams(config),
    loss: { kind: 'policy', policy: { clipLow: 0.2, clipHigh: 0.2 }, valueHead: { clipRange: 0.2 } },
    schedule: { kind: 'constant', peakLr: 1e-3 },
    pool,
  });
  try {
    const behaviour = await trainer.logprobs(base); // forward-only graph, as the rollout scorer
    const r = await trainer.forwardBackward(
      withInputs(base, {
        advantages: varied(1, 1),
        behaviour_logprobs: behaviour,
        old_values: new Float32Array(n),
        returns: varied(2, 1),
      }),
    );
    assert.ok(r.ratio);
    for (let i = 0; i < n; i++) assert.equal(r.ratio[i], 1, `ratio[${i}]`);
    assert.equal(r.metrics['ratio_mean'], 1);
    assert.equal(r.metrics['clip_fraction'], 0);
    assert.ok(Number.isFinite(r.metrics['vf_loss']) && r.metrics['vf_loss']! > 0);
  } finally {
    await trainer.close();
  }
});

test('KL to the frozen reference: exactly 0 at policy = reference, positive after training moves the policy', async () => {
  const params = tinyParams(config);
  const reference = createReferencePolicy(config, params, { pool });
  const trainer = createTrainer({
    config,
    params,
    loss: { kind: 'policy', policy: { klCoef: 0.1, klEstimator: 'k3' } },
    schedule: { kind: 'constant', peakLr: 1e-2 },
    pool,
  });
  try {
    const behaviour = await trainer.logprobs(base);
    const mk = async () =>
      withInputs(base, {
        advantages: varied(7, 1),
        behaviour_logprobs: behaviour,
        ref_logprobs: await reference.logprobs(base),
      });
    const b0 = await mk();
    const r0 = await trainer.forwardBackward(b0);
    assert.equal(r0.metrics['kl'], 0);
    for (let s = 0; s < 5; s++) await trainer.trainStep([b0]);
    const r1 = await trainer.forwardBackward(await mk());
    assert.ok(r1.metrics['kl']! > 1e-6, `kl after 5 steps ${r1.metrics['kl']}`);
  } finally {
    await trainer.close();
    await reference.close();
  }
});
