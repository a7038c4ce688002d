import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLrSchedule } from '../src/optim/lr-schedule.js';
import { saveTrainingCheckpoint } from '../src/training/checkpoint.js';
import { createPolicyWorker, type TokenBatch, type UpdateMicroBatch } from '../src/worker/policy-worker.js';
import type { PolicyWorkerOptions } from '../src/worker/worker-options.js';
import { batchFromRows, randomRows, tinyConfig, tinyParams } from './helpers.js';

const config = tinyConfig();
const root = mkdtempSync(join(tmpdir(), 'verdict-worker-'));
after(() => rmSync(root, { recursive: true, force: true }));
// A plain HF model folder (config.json + model.safetensors), what a run's student is.
const modelDir = join(root, 'model');
saveTrainingCheckpoint(modelDir, { config, params: tinyParams(config) });

/** Two rows: 6 completion tokens and 2 (prompt length 3), so token- and sequence-mean differ. */
const batch: TokenBatch = batchFromRows(
  [randomRows(1, 9, config.vocabSize, 7)[0]!, randomRows(1, 5, config.vocabSize, 8)[0]!],
  3,
);
const n = batch.batchSize * batch.seqLen;
const rowOf = (i: number) => Math.floor(i / batch.seqLen);
/** +1 on the first row's tokens, −1 on the second's (0 off the mask). */
const advantages = Float32Array.from({ length: n }, (_, i) =>
  batch.lossMask[i] ? (rowOf(i) === 0 ? 1 : -1) : 0,
);

const base = (extra: Partial<PolicyWorkerOptions> = {}): PolicyWorkerOptions => ({
  modelDir,
  optimizer: { learningRate: 1e-2 },
  kl: { metric: false },
  ...extra,
});

function maskedMean(x: ArrayLike<number>, pick: (i: number) => boolean): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < n; i++)
    if (batch.lossMask[i] && pick(i)) {
      s += x[i]!;
      c++;
    }
  return s / c;
}

test('score → update → score: positive-advantage tokens gain log-prob, negative ones lose it', async () => {
  const worker = createPolicyWorker(base());
  try {
    const before = await worker.score(batch);
    assert.equal(before.logprobs.length, n);
    assert.equal(before.values, undefined);
    const r = await worker.update([{ ...batch, advantages, behaviourLogprobs: before.logprobs }]);
    assert.equal(r.step, 1);
    assert.equal(r.skipped, false);
    assert.ok(r.gradNorm > 0);
    const afterScore = await worker.score(batch);
    const up = (i: number) => rowOf(i) === 0;
    assert.ok(maskedMean(afterScore.logprobs, up) > maskedMean(before.logprobs, up));
    assert.ok(maskedMean(afterScore.logprobs, (i) => !up(i)) < maskedMean(before.logprobs, (i) => !up(i)));
  } finally {
    await worker.close();
  }
});

/** Two updates' inputs, from the worker's own scores (deterministic). */
async function step(worker: ReturnType<typeof createPolicyWorker>): Promise<void> {
  const s = await worker.score(batch);
  await worker.update([{ ...batch, advantages, behaviourLogprobs: s.logprobs }]);
}

function bytes(x: Float32Array): Buffer {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
}

test('save → load (option or method) → the next update is bit-identical; weights() = model.safetensors', async () => {
  // β2 and weight decay off their defaults: the AdamW state and its meta must round-trip.
  const opts = base({ optimizer: { learningRate: 1e-2, beta2: 0.95, weightDecay: 0.1 } });
  const dir = join(root, 'ckpt');
  const a = createPolicyWorker(opts);
  let straight: Map<string, Float32Array>;
  try {
    await step(a);
    a.save(dir, { cursor: 1 });
    assert.ok(Buffer.from(a.weights()).equals(readFileSync(join(dir, 'model.safetensors'))));
    await step(a);
    straight = new Map([...a.params].map(([k, v]) => [k, v.slice()]));
  } finally {
    await a.close();
  }
  const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8'));
  assert.equal(state.optimizer.beta2, 0.95);
  assert.equal(state.optimizer.weightDecay, 0.1);
  const viaOption = createPolicyWorker({ ...opts, resume: dir });
  const viaLoad = createPolicyWorker(opts);
  try {
    assert.deepEqual(await viaLoad.load(dir), { cursor: 1 });
    for (const w of [viaOption, viaLoad]) {
      assert.equal(w.step, 1);
      await step(w);
      for (const [name, x] of straight) assert.ok(bytes(x).equals(bytes(w.params.get(name)!)), name);
    }
  } finally {
    await viaOption.close();
    await viaLoad.close();
  }
});

test('lrSchedule: each update uses the warmup + cosine schedule’s learning rate', async () => {
  const schedule = { kind: 'cosine', warmupSteps: 2, totalSteps: 4, minLr: 1e-3 } as const;
  const worker = createPolicyWorker(base({ lrSchedule: schedule }));
  const expected = createLrSchedule({ ...schedule, peakLr: 1e-2 });
  try {
    for (let k = 0; k < 5; k++) {
      const s = await worker.score(batch);
      const r = await worker.update([{ ...batch, advantages, behaviourLogprobs: s.logprobs }]);
      assert.equal(r.lr, expected(k));
    }
  } finally {
    await worker.close();
  }
  // Warmup really starts low and the decay reaches the floor.
  assert.equal(expected(0), 5e-3);
  assert.equal(expected(4), 1e-3);
});

/** The first update's metrics for a micro-batch built from the worker's own scores. */
async function firstUpdate(
  opts: PolicyWorkerOptions,
  extra: (lp: Float32Array) => Partial<UpdateMicroBatch>,
) {
  const worker = createPolicyWorker(opts);
  try {
    const s = await worker.score(batch);
    return await worker.update([
      { ...batch, advantages, behaviourLogprobs: s.logprobs, ...extra(s.logprobs) },
    ]);
  } finally {
    await worker.close();
  }
}

test('kl.estimator: the in-loss KL is k1 or k3 of the given reference log-probs', async () => {
  // log π_ref = log π − 0.5 on every token: k1 = 0.5, k3 = e^−0.5 − 1 + 0.5.
  const ref = (lp: Float32Array) => ({ refLogprobs: lp.map((x) => x - 0.5) });
  const k1 = await firstUpdate(base({ kl: { coef: 0.1, estimator: 'k1' } }), ref);
  const k3 = await firstUpdate(base({ kl: { coef: 0.1, estimator: 'k3' } }), ref);
  assert.ok(Math.abs(k1.metrics['kl']! - 0.5) < 1e-5, `k1 ${k1.metrics['kl']}`);
  assert.ok(Math.abs(k3.metrics['kl']! - (Math.exp(-0.5) - 0.5)) < 1e-5, `k3 ${k3.metrics['kl']}`);
  // β > 0 without reference log-probs: the error names the missing input.
  await assert.rejects(
    firstUpdate(base({ kl: { coef: 0.1 } }), () => ({})),
    /update\[0\]\.refLogprobs/,
  );
});

test('kl.coef 0 without the metric: the worker needs no reference; with β the reference is needed', async () => {
  const off = createPolicyWorker(base({ kl: { coef: 0, metric: false } }));
  const on = createPolicyWorker(base({ kl: { coef: 0.05 } }));
  try {
    assert.equal(off.config.kl.needsReference, false);
    assert.equal(on.config.kl.needsReference, true);
  } finally {
    await off.close();
    await on.close();
  }
});

test('policyLoss.truncatedIs: the sequence weight is capped at cap, aggregated by mean or sum', async () => {
  // log μ = log π_old − 1 on every token: mean weight e^1, sum weight e^(tokens) — both above 1.5.
  const rollout = (lp: Float32Array) => ({ rolloutLogprobs: lp.map((x) => x - 1) });
  const capped = await firstUpdate(base({ policyLoss: { truncatedIs: { cap: 1.5 } } }), rollout);
  assert.ok(Math.abs(capped.metrics['is_weight_mean']! - 1.5) < 1e-6);
  const high = await firstUpdate(
    base({ policyLoss: { truncatedIs: { cap: 100, aggregation: 'mean' } } }),
    rollout,
  );
  assert.ok(Math.abs(high.metrics['is_weight_mean']! - Math.E) < 1e-4);
  const sum = await firstUpdate(
    base({ policyLoss: { truncatedIs: { cap: 100, aggregation: 'sum' } } }),
    rollout,
  );
  // Rows of 6 and 2 tokens: (min(e^6, 100) + e^2) / 2.
  assert.ok(Math.abs(sum.metrics['is_weight_mean']! - (100 + Math.exp(2)) / 2) < 1e-3);
});

test('policyLoss.aggregation: token-mean weighs tokens, sequence-mean weighs sequences', async () => {
  // Ratio 1 at the first update, so pg = −A per token: rows of 6 tokens (A = 1) and 2 tokens (A = −1).
  const token = await firstUpdate(base(), () => ({}));
  const seq = await firstUpdate(base({ policyLoss: { aggregation: 'sequence-mean' } }), () => ({}));
  assert.ok(Math.abs(token.policyLoss - -(6 - 2) / 8) < 1e-6, `token ${token.policyLoss}`);
  assert.ok(Math.abs(seq.policyLoss) < 1e-6, `sequence ${seq.policyLoss}`);
});

test('valueHead.clipRange: a second update on the same targets clips V only under a small range', async () => {
  async function twoUpdates(clipRange: number) {
    const worker = createPolicyWorker(base({ valueHead: { clipRange } }));
    try {
      const s = await worker.score(batch);
      assert.ok(s.values && s.values.length === n);
      const mb: UpdateMicroBatch = {
        ...batch,
        advantages,
        behaviourLogprobs: s.logprobs,
        oldValues: s.values!,
        returns: s.values!.map((v) => v + 5),
      };
      await worker.update([mb]);
      return await worker.update([mb]);
    } finally {
      await worker.close();
    }
  }
  const tight = await twoUpdates(1e-4);
  const loose = await twoUpdates(1e3);
  assert.ok(tight.metrics['vf_clip_fraction']! > 0.5, `tight ${tight.metrics['vf_clip_fraction']}`);
  assert.equal(loose.metrics['vf_clip_fraction'], 0);
});

test('a session that fails to load (provider unavailable, fallback never) still lets close() end the pool', async (t) => {
  const { probeExecutionProvider } = await import('@verdict/graph');
  if ((await probeExecutionProvider('cuda')).available) return t.skip('CUDA EP is available on this machine');
  const worker = createPolicyWorker(
    base({ execution: { executionProvider: 'cuda', executionProviderFallback: 'never' } }),
  );
  await assert.rejects(worker.score(batch));
  await worker.close(); // resolves (a hang here would keep the test process alive)
});

test('two threads: score and reference side by side on two pool workers agree with one thread in sequence', async () => {
  const one = createPolicyWorker(base({ kl: { coef: 0.05 } }));
  const two = createPolicyWorker(base({ kl: { coef: 0.05 }, execution: { intraOpThreads: 2 } }));
  try {
    const s1 = await one.score(batch);
    const r1 = await one.referenceLogprobs(batch);
    const [s2, r2] = await Promise.all([two.score(batch), two.referenceLogprobs(batch)]);
    for (let i = 0; i < n; i++) {
      if (!batch.lossMask[i]) continue;
      assert.ok(Math.abs(s1.logprobs[i]! - s2.logprobs[i]!) < 1e-5, `score logprob ${i}`);
      assert.ok(Math.abs(s1.entropy[i]! - s2.entropy[i]!) < 1e-5, `entropy ${i}`);
      assert.ok(Math.abs(r1[i]! - r2[i]!) < 1e-5, `reference logprob ${i}`);
    }
    // Before any update the reference is the policy itself.
    for (let i = 0; i < n; i++)
      if (batch.lossMask[i])
        assert.ok(Math.abs(s2.logprobs[i]! - r2[i]!) < 1e-5, `policy = reference at ${i}`);
    // And the update after it (on the two-thread training session) matches the one-thread update.
    const u1 = await one.update([{ ...batch, advantages, behaviourLogprobs: s1.logprobs, refLogprobs: r1 }]);
    const u2 = await two.update([{ ...batch, advantages, behaviourLogprobs: s2.logprobs, refLogprobs: r2 }]);
    assert.ok(Math.abs(u1.loss - u2.loss) < 1e-5 && Math.abs(u1.gradNorm - u2.gradNorm) < 1e-4);
  } finally {
    await one.close();
    await two.close();
  }
});

test('an update of two or more micro-batches reports grad_halves_cosine: 1 for agreeing halves, −1 for opposite ones', async () => {
  const worker = createPolicyWorker(base());
  try {
    const { logprobs } = await worker.score(batch);
    const mb: UpdateMicroBatch = { ...batch, advantages, behaviourLogprobs: logprobs };
    const agree = await worker.update([mb, mb]);
    assert.ok(
      Math.abs(agree.metrics['grad_halves_cosine']! - 1) < 1e-4,
      String(agree.metrics['grad_halves_cosine']),
    );
    const { logprobs: now } = await worker.score(batch);
    const flipped = advantages.map((a) => -a);
    const oppose = await worker.update([
      { ...batch, advantages, behaviourLogprobs: now },
      { ...batch, advantages: flipped, behaviourLogprobs: now },
    ]);
    assert.ok(
      Math.abs(oppose.metrics['grad_halves_cosine']! + 1) < 1e-4,
      String(oppose.metrics['grad_halves_cosine']),
    );
    const single = await worker.update([mb]);
    assert.equal(single.metrics['grad_halves_cosine'], undefined, 'one micro-batch has no halves');
  } finally {
    await worker.close();
  }
});
