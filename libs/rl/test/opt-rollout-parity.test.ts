import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Generation, generate, loadModel, loadModelConfig, loadModelWeights } from '@verdict/models';
import type { TrainBatch } from '../src/training/train-batch.js';
import { createTrainer } from '../src/training/trainer.js';
import { createPolicyWorker } from '../src/worker/policy-worker.js';
import { batchFromRows } from './helpers.js';
import { idTokenizer, optTinyDir } from './opt-helpers.js';

// Rollout/training parity for an OPT student (Galactica-shaped opt-tiny): the KV-cache generation
// log-probs (@verdict/models, left-padded prompts) equal the training graph's and the policy
// worker's scoring graph's for the same tokens, with the batch right-padded (as libs/rl builds it)
// and left-padded (as the rollout ran). OPT numbers learned positions from the attention mask, so a
// left-padded row only matches if the training graph does so too. Needs shared/fixtures/opt-tiny.

const PAD = 1;

/** Left-padded batch of token rows: position t predicts row[t+1]; loss on every real target. */
function leftPadded(rows: readonly number[][]): { batch: TrainBatch; offsets: number[] } {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.length)) - 1;
  const inputIds = new Int32Array(B * T).fill(PAD);
  const attentionMask = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const lossMask = new Float32Array(B * T);
  const offsets = rows.map((r) => T - (r.length - 1));
  rows.forEach((r, b) => {
    for (let j = 0; j < r.length - 1; j++) {
      const t = offsets[b]! + j;
      inputIds[b * T + t] = r[j]!;
      attentionMask[b * T + t] = 1;
      targets[b * T + t] = r[j + 1]!;
      lossMask[b * T + t] = 1;
    }
  });
  return { batch: { batchSize: B, seqLen: T, inputIds, attentionMask, targets, lossMask }, offsets };
}

function compare(
  what: string,
  gens: readonly Generation[],
  lp: Float32Array,
  seqLen: number,
  offsets: number[],
) {
  let max = 0;
  let sum = 0;
  let count = 0;
  gens.forEach((g, b) => {
    g.logprobs.forEach((rollout, j) => {
      // Row position promptLen − 1 + j (shifted by the row's left padding) predicts generated token j.
      const d = Math.abs(lp[b * seqLen + offsets[b]! + g.promptIds.length - 1 + j]! - rollout);
      max = Math.max(max, d);
      sum += d;
      count++;
    });
  });
  assert.ok(count >= 30, `only ${count} generated tokens compared`);
  assert.ok(max < 1e-5, `${what}: max |Δ logp| = ${max} (mean ${sum / count}) over ${count} tokens`);
  return `${what}: max |Δ logp| ${max.toExponential(2)}, mean ${(sum / count).toExponential(2)}, ${count} tokens`;
}

test('OPT rollout/training parity: generation log-probs = training graph and worker.score, right- and left-padded (max |Δ| < 1e-5)', async (t) => {
  const dir = optTinyDir('opt-tiny-galactica');
  const config = loadModelConfig(dir);
  const model = loadModel(dir, { tokenizer: idTokenizer(config.vocabSize) });
  // Three prompts of different lengths: generation left-pads them in one batch.
  const prompts = [
    [0, 17, 250, 9],
    [0, 600, 42, 42, 7, 3, 88, 301, 5],
    [0, 999],
  ];
  let gens: Generation[];
  try {
    gens = await generate(
      model,
      prompts.map((ids) => ({ ids })),
      { maxNewTokens: 16, temperature: 1, seed: 3, stopTokenIds: [] },
    );
  } finally {
    await model.close();
  }
  const rows = gens.map((g) => [...g.promptIds, ...g.ids]);
  const right = batchFromRows(rows);
  const left = leftPadded(rows);
  const trainer = createTrainer({
    config,
    params: loadModelWeights(dir, config),
    loss: { kind: 'sft' },
    schedule: { kind: 'constant', peakLr: 0 },
  });
  const worker = createPolicyWorker({
    modelDir: dir,
    optimizer: { learningRate: 1e-5 },
    kl: { metric: false },
  });
  try {
    const zeros = rows.map(() => 0);
    for (const [pad, batch, offsets] of [
      ['right-padded', right, zeros],
      ['left-padded', left.batch, left.offsets],
    ] as const) {
      const { logprobs } = await trainer.forwardBackward(batch);
      t.diagnostic(compare(`training graph, ${pad}`, gens, logprobs, batch.seqLen, offsets));
      const scored = await worker.score(batch);
      t.diagnostic(compare(`worker.score, ${pad}`, gens, scored.logprobs, batch.seqLen, offsets));
      const fwd = await trainer.logprobs(batch);
      t.diagnostic(compare(`trainer.logprobs, ${pad}`, gens, fwd, batch.seqLen, offsets));
    }
  } finally {
    await worker.close();
    await trainer.close();
  }
});
