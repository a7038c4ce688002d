// What an update's own forward hands back (UpdateResult.logprobs / .entropy): at the parameters
// before the update, so the step's first update can stand in for `score` (behaviour log-probs from
// the rollout engine, no scoring pass). Real ONNX sessions on a tiny Llama.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { batchFromRows, randomRows, tinyConfig, tinyParams } from '../../test/helpers.js';
import { saveTrainingCheckpoint } from '../training/checkpoint.js';
import { createPolicyWorker, type TokenBatch } from './policy-worker.js';

const config = tinyConfig();
const root = mkdtempSync(join(tmpdir(), 'verdict-update-forward-'));
after(() => rmSync(root, { recursive: true, force: true }));
const modelDir = join(root, 'model');
saveTrainingCheckpoint(modelDir, { config, params: tinyParams(config) });

const a: TokenBatch = batchFromRows(randomRows(2, 9, config.vocabSize, 7), 3);
const b: TokenBatch = batchFromRows(randomRows(3, 6, config.vocabSize, 9), 2);
const advantagesOf = (x: TokenBatch) =>
  Float32Array.from(x.lossMask, (m, i) => (m ? (i % 3 === 0 ? 1 : -0.5) : 0));

function maxMaskedDiff(x: ArrayLike<number>, y: ArrayLike<number>, mask: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
}

test('update returns each micro-batch’s pre-update log-probs; entropyMetric adds its entropy, not its loss', async () => {
  const opts = { modelDir, optimizer: { learningRate: 1e-2 }, kl: { metric: false } } as const;
  const plain = createPolicyWorker(opts);
  const withEntropy = createPolicyWorker({ ...opts, policyLoss: { entropyMetric: true } });
  try {
    const sa = await plain.score(a);
    const sb = await plain.score(b);
    const mbs = [
      { ...a, advantages: advantagesOf(a), behaviourLogprobs: sa.logprobs },
      { ...b, advantages: advantagesOf(b), behaviourLogprobs: sb.logprobs },
    ];
    const r = await withEntropy.update(mbs);
    const p = await plain.update(mbs);
    assert.equal(r.logprobs.length, 2);
    assert.ok(maxMaskedDiff(r.logprobs[0]!, sa.logprobs, a.lossMask) < 1e-5, 'first micro-batch');
    assert.ok(maxMaskedDiff(r.logprobs[1]!, sb.logprobs, b.lossMask) < 1e-5, 'second micro-batch');
    assert.ok(maxMaskedDiff(r.entropy![0]!, sa.entropy, a.lossMask) < 1e-5);
    assert.ok(maxMaskedDiff(r.entropy![1]!, sb.entropy, b.lossMask) < 1e-5);
    // The metric: the token-weighted mean of the scored entropy.
    let sum = 0;
    let n = 0;
    for (const [x, s] of [
      [a, sa],
      [b, sb],
    ] as const)
      for (let i = 0; i < x.lossMask.length; i++)
        if (x.lossMask[i]) {
          sum += s.entropy[i]!;
          n++;
        }
    assert.ok(Math.abs(r.metrics['entropy']! - sum / n) < 1e-5, `entropy ${r.metrics['entropy']}`);
    // Not in the loss (entropyCoef 0): both workers took the same update.
    assert.ok(Math.abs(r.loss - p.loss) < 1e-7);
    for (const [name, x] of plain.params)
      assert.ok(
        maxMaskedDiff(x, withEntropy.params.get(name)!, new Float32Array(x.length).fill(1)) < 1e-7,
        name,
      );
    // Without the option: no entropy, log-probs still there.
    assert.equal(p.entropy, undefined);
    assert.equal(p.metrics['entropy'], undefined);
    assert.equal(p.logprobs.length, 2);
    // The second update's log-probs are at the updated parameters: no longer the scored ones.
    const again = await withEntropy.update(mbs);
    assert.ok(maxMaskedDiff(again.logprobs[0]!, sa.logprobs, a.lossMask) > 1e-3);
  } finally {
    await plain.close();
    await withEntropy.close();
  }
});
