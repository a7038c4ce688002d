import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, loadModel, loadModelConfig, loadModelWeights, parseModelConfig } from '@verdict/models';
import { loadTrainingCheckpoint } from '../src/training/checkpoint.js';
import { createTrainer } from '../src/training/trainer.js';
import { createPolicyWorker } from '../src/worker/policy-worker.js';
import { batchFromRows, randomRows } from './helpers.js';
import { idTokenizer, OPT_TINY, optTinyDir } from './opt-helpers.js';

// An OPT checkpoint trains like a Llama one: SFT steps lower the loss, the trainer's checkpoint is a
// plain HF OPT folder that @verdict/models loads and generates from with the trained weights, and the
// policy worker (value head on the trunk's word_embed_proj_dim output) updates, saves and resumes.
// Needs shared/fixtures/opt-tiny (fails naming the path when absent).

for (const name of OPT_TINY) {
  test(`OPT (${name}): SFT steps lower the loss; save → loadModel generates with the trained weights`, async (t) => {
    const dir = optTinyDir(name);
    const config = loadModelConfig(dir);
    const batch = batchFromRows(randomRows(4, 12, config.vocabSize, 7), 4);
    const trainer = createTrainer({
      config,
      params: loadModelWeights(dir, config),
      loss: { kind: 'sft' },
      schedule: { kind: 'constant', peakLr: 3e-3 },
    });
    const out = mkdtempSync(join(tmpdir(), 'verdict-opt-train-'));
    try {
      const before = (await trainer.forwardBackward(batch)).loss;
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) losses.push((await trainer.trainStep([batch])).loss);
      const after = (await trainer.forwardBackward(batch)).loss;
      t.diagnostic(
        `${name}: loss ${before.toFixed(4)} → ${after.toFixed(4)} (steps ${losses.map((l) => l.toFixed(3)).join(' ')})`,
      );
      assert.ok(after < before - 0.1, `loss ${before} → ${after}`);

      trainer.save(out, { extra: { note: 'opt' } });
      // config.json round-trips to the same config; the weights are the trained ones, bit for bit.
      assert.deepEqual(parseModelConfig(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))), config);
      const ckpt = loadTrainingCheckpoint(out);
      assert.deepEqual(ckpt.config, config);
      assert.equal(ckpt.optimizer?.meta.step, 5);
      assert.deepEqual(ckpt.extra, { note: 'opt' });
      assert.equal(ckpt.params.size, trainer.params.size);
      for (const [n, p] of trainer.params) assert.deepEqual(ckpt.params.get(n), p, n);

      // The saved folder is an ordinary OPT checkpoint: loadModel + generate, and its rollout
      // log-probs are the trained trainer's.
      const model = loadModel(out, { tokenizer: idTokenizer(config.vocabSize) });
      let gen: Awaited<ReturnType<typeof generate>>[number];
      try {
        [gen] = (await generate(model, [{ ids: [0, 44, 512, 3] }], {
          maxNewTokens: 12,
          temperature: 0,
          stopTokenIds: [],
        })) as [typeof gen];
      } finally {
        await model.close();
      }
      assert.equal(gen.ids.length, 12);
      const lp = await trainer.logprobs(batchFromRows([[...gen.promptIds, ...gen.ids]]));
      const max = gen.logprobs.reduce(
        (m, v, j) => Math.max(m, Math.abs(lp[gen.promptIds.length - 1 + j]! - v)),
        0,
      );
      t.diagnostic(`${name}: saved model's greedy log-probs vs trainer max |Δ| ${max.toExponential(2)}`);
      assert.ok(max < 1e-5, `max |Δ logp| ${max}`);
    } finally {
      await trainer.close();
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test('OPT policy worker (350m-style, value head on the projected trunk): score → update → save → resume', async () => {
  const dir = optTinyDir('opt-tiny-350m-style');
  const config = loadModelConfig(dir);
  const opts = {
    modelDir: dir,
    optimizer: { learningRate: 1e-3 },
    kl: { coef: 0.05 },
    valueHead: { coef: 0.5 },
  } as const;
  const batch = batchFromRows(randomRows(3, 10, config.vocabSize, 11), 3);
  const worker = createPolicyWorker(opts);
  const out = mkdtempSync(join(tmpdir(), 'verdict-opt-worker-'));
  try {
    // word_embed_proj_dim 32 ≠ hidden 64: the value head reads what the LM head reads.
    assert.equal(worker.params.get('v_head.weight')?.length, 32);
    const s = await worker.score(batch);
    assert.ok(s.values && s.values.length === batch.batchSize * batch.seqLen);
    const ref = await worker.referenceLogprobs(batch);
    const n = batch.batchSize * batch.seqLen;
    const advantages = Array.from({ length: n }, (_, i) => (i % 3) - 1);
    const mb = {
      ...batch,
      advantages,
      behaviourLogprobs: s.logprobs,
      refLogprobs: ref,
      oldValues: s.values,
      returns: advantages,
    };
    const r = await worker.update([mb]);
    assert.equal(r.step, 1);
    assert.ok(Number.isFinite(r.loss) && r.valueLoss !== undefined && r.gradNorm > 0);
    worker.save(out, { cursor: 1 });
    const next = await worker.update([mb]);
    const resumed = createPolicyWorker({ ...opts, resume: out });
    try {
      const again = await resumed.update([mb]);
      // Same state, same batch: the resumed worker takes the same second update, bit for bit.
      assert.equal(again.step, 2);
      assert.equal(again.loss, next.loss);
      for (const [k, p] of worker.params) assert.deepEqual(resumed.params.get(k), p, k);
    } finally {
      await resumed.close();
    }
    const saved = loadModel(out, { tokenizer: idTokenizer(config.vocabSize) });
    assert.equal(saved.config.modelType, 'opt');
    await saved.close();
  } finally {
    await worker.close();
    rmSync(out, { recursive: true, force: true });
  }
});
