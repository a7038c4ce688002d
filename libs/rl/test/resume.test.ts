import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadLlamaFamilyConfig, loadLlamaWeights } from '@verdict/models';
import type { ParamMap } from '../src/optim/param-map.js';
import { loadTrainingCheckpoint } from '../src/training/checkpoint.js';
import { createTrainer, type TrainerOptions } from '../src/training/trainer.js';
import { batchFromRows, randomRows, tinyConfig, tinyParams } from './helpers.js';

const config = tinyConfig({ tie_word_embeddings: true });
const batches = Array.from({ length: 8 }, (_, i) =>
  batchFromRows(randomRows(2, 9, config.vocabSize, 100 + i), 2),
);
const base: Omit<TrainerOptions, 'params'> = {
  config,
  loss: { kind: 'sft' },
  // Warmup + cosine, clipping that bites and two micro-batches per step: every piece of state matters.
  schedule: { kind: 'cosine', peakLr: 3e-2, warmupSteps: 2, totalSteps: 7, minLr: 1e-3 },
  maxGradNorm: 0.5,
  optimizer: { weightDecay: 0.1 },
};

async function runSteps(trainerOpts: TrainerOptions, from: number, to: number, saveTo?: string) {
  const trainer = createTrainer(trainerOpts);
  try {
    for (let s = from; s < to; s++) await trainer.trainStep([batches[s]!, batches[(s + 3) % 8]!]);
    if (saveTo) trainer.save(saveTo, { extra: { nextStep: to } });
    return new Map([...trainer.params].map(([n, p]) => [n, p.slice()]));
  } finally {
    await trainer.close();
  }
}

function assertBitIdentical(a: ParamMap, b: ParamMap): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, x] of a) {
    const y = b.get(name)!;
    assert.ok(
      Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(
        Buffer.from(y.buffer, y.byteOffset, y.byteLength),
      ),
      name,
    );
  }
}

test('resume: 3 steps → checkpoint → restart → 4 steps equals 7 uninterrupted steps bit for bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-resume-'));
  try {
    const straight = await runSteps({ ...base, params: tinyParams(config) }, 0, 7);
    await runSteps({ ...base, params: tinyParams(config) }, 0, 3, dir);
    const ckpt = loadTrainingCheckpoint(dir);
    assert.equal(ckpt.optimizer?.meta.step, 3);
    assert.deepEqual(ckpt.extra, { nextStep: 3 });
    // The model part is a plain HF checkpoint: @verdict/models reads it on its own.
    assert.equal(loadLlamaWeights(dir, loadLlamaFamilyConfig(dir)).size, ckpt.params.size);
    const resumed = await runSteps({ ...base, params: ckpt.params, optimizerState: ckpt.optimizer }, 3, 7);
    assertBitIdentical(straight, resumed);
    // And the run did move the weights (the comparison is not vacuous).
    const initial = tinyParams(config);
    const emb = 'model.embed_tokens.weight';
    assert.notDeepEqual(straight.get(emb), initial.get(emb));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
