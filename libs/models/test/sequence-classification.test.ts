import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  classify,
  createLlamaModel,
  createRandomLlamaWeights,
  encodeJudgePrompt,
  generate,
  isModelError,
  leftPadBatch,
  llamaWeightShapes,
  loadModel,
  loadModelTokenizer,
  referenceHiddenStates,
  renderJudgePrompt,
} from '../src/index.js';
import {
  classifierToyConfig,
  qwen3ToyConfig,
  storiesDir,
  writeRandomClassifierCheckpoint,
} from './helpers.js';

/** The float64 oracle: final-norm hidden state at the last real token times score.weightᵀ. */
function referenceClassifierLogits(
  config: ReturnType<typeof classifierToyConfig>,
  weights: Map<string, Float32Array>,
  rows: readonly (readonly number[])[],
): number[][] {
  const score = weights.get('score.weight')!;
  const H = config.hiddenSize;
  return rows.map((ids) => {
    const hidden = referenceHiddenStates(config, weights, { inputIds: [ids] })[0]!;
    const last = hidden[ids.length - 1]!;
    return Array.from({ length: config.sequenceClassification!.numLabels }, (_, k) => {
      let s = 0;
      for (let i = 0; i < H; i++) s += score[k * H + i]! * last[i]!;
      return s;
    });
  });
}

describe('sequence-classification checkpoints (the reranker head)', () => {
  const stories = loadModelTokenizer(storiesDir());
  const dir = mkdtempSync(join(tmpdir(), 'verdict-classifier-'));
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('config: ...ForSequenceClassification has score.weight [num_labels, hidden] and no lm_head', () => {
    const config = classifierToyConfig(2);
    assert.deepEqual(config.sequenceClassification, { numLabels: 2, padTokenId: 0 });
    const shapes = llamaWeightShapes(config);
    assert.deepEqual(shapes.get('score.weight'), [2, 32]);
    assert.equal(shapes.has('lm_head.weight'), false);
    // HF's default without id2label is 2 labels; a tied config still gets no LM head.
    const tied = classifierToyConfig(1, { id2label: undefined, tie_word_embeddings: true });
    assert.equal(tied.sequenceClassification!.numLabels, 2);
    assert.equal(qwen3ToyConfig().sequenceClassification, undefined);
    assert.throws(
      () => qwen3ToyConfig({ architectures: ['LlamaForSequenceClassification'] }),
      (e) =>
        isModelError(e) &&
        e.code === 'UNSUPPORTED_ARCHITECTURE' &&
        /Qwen3ForSequenceClassification/.test(e.message),
    );
  });

  it('graph logits equal the float64 last-real-token hidden state times score.weight (left-padded batch)', async () => {
    const config = classifierToyConfig(2);
    const weights = createRandomLlamaWeights(config, 11, 1.5);
    const model = createLlamaModel(config, weights, stories);
    closers.push(() => model.close());
    const rows = [
      [5, 17, 301, 44, 9, 120, 77],
      [3, 250, 8],
      [400, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ];
    const logits = await model.classifyLast!(leftPadBatch(rows, 0));
    assert.equal(logits.length, rows.length * 2);
    const expected = referenceClassifierLogits(config, weights, rows);
    let maxDiff = 0;
    rows.forEach((_, b) => {
      for (let k = 0; k < 2; k++)
        maxDiff = Math.max(maxDiff, Math.abs(logits[b * 2 + k]! - expected[b]![k]!));
    });
    assert.ok(maxDiff <= 1e-5, `max abs diff ${maxDiff}`);
    // Right padding (HF's layout): the last real token is found from the mask, not the last column.
    const T = 11;
    const right = {
      batchSize: rows.length,
      seqLen: T,
      inputIds: rows.flatMap((r) => [...r, ...Array<number>(T - r.length).fill(0)]),
      attentionMask: rows.flatMap((r) => [...r.map(() => 1), ...Array<number>(T - r.length).fill(0)]),
      positionIds: rows.flatMap(() => Array.from({ length: T }, (_, t) => t)),
    };
    const rightLogits = await model.classifyLast!(right);
    let rightDiff = 0;
    rows.forEach((_, b) => {
      for (let k = 0; k < 2; k++)
        rightDiff = Math.max(rightDiff, Math.abs(rightLogits[b * 2 + k]! - expected[b]![k]!));
    });
    assert.ok(rightDiff <= 1e-5, `right-padded max abs diff ${rightDiff}`);
  });

  it('classify() on a checkpoint folder: judge prompts, batches of 2, sigmoid of the one logit', async () => {
    const config = classifierToyConfig(1);
    const weights = writeRandomClassifierCheckpoint(dir, config, { seed: 5 });
    const model = loadModel(dir, { tokenizer: stories });
    closers.push(() => model.close());
    const items = [
      { question: 'Tom had 3 apples.', answer: 'He had 3.' },
      { question: 'Lily saw a cat.', answer: 'The cat was big and happy and it ran home.' },
      { question: 'One dog.', answer: 'Yes' },
    ];
    const results = await classify(model, items, { maxBatchSize: 2 });
    const prompts = items.map((it) =>
      encodeJudgePrompt(stories, renderJudgePrompt(stories, it.question, it.answer, 'plain'), 'plain'),
    );
    assert.notEqual(prompts[0]!.length, prompts[1]!.length); // the first batch is padded
    const expected = referenceClassifierLogits(config, weights, prompts);
    results.forEach((r, i) => {
      assert.equal(r.logits.length, 1);
      assert.ok(
        Math.abs(r.logits[0]! - expected[i]![0]!) <= 1e-5,
        `item ${i}: ${r.logits[0]} vs ${expected[i]![0]}`,
      );
      assert.ok(Math.abs(r.score - 1 / (1 + Math.exp(-r.logits[0]!))) <= 1e-12);
    });
    // A reranker server's model: the JS weights go once the classify session has loaded.
    const served = loadModel(dir, { tokenizer: stories, releaseWeightsAfterLoad: 'classify' });
    closers.push(() => served.close());
    assert.ok(served.weightBytesHeld() > 0);
    const again = await classify(served, items, { maxBatchSize: 2 });
    assert.equal(served.weightBytesHeld(), 0);
    assert.deepEqual(
      again.map((r) => r.logits),
      results.map((r) => r.logits),
    );
  });

  it('two labels: the score is softmax P(label 1)', async () => {
    const sub = mkdtempSync(join(dir, 'two-'));
    writeRandomClassifierCheckpoint(sub, classifierToyConfig(2), { seed: 9 });
    const model = loadModel(sub, { tokenizer: stories });
    closers.push(() => model.close());
    const [r] = await classify(model, [{ question: 'Q', answer: 'A' }]);
    const [z0, z1] = r!.logits as [number, number];
    assert.ok(Math.abs(r!.score - Math.exp(z1) / (Math.exp(z0) + Math.exp(z1))) <= 1e-12);
  });

  it('a score.weight of the wrong shape is a ModelError naming the tensor and both shapes', () => {
    const sub = mkdtempSync(join(dir, 'bad-'));
    writeRandomClassifierCheckpoint(sub, classifierToyConfig(2), { scoreRows: 3 });
    assert.throws(
      () => loadModel(sub, { tokenizer: stories }),
      (e) =>
        isModelError(e) &&
        e.code === 'SHAPE_MISMATCH' &&
        e.message.includes('score.weight') &&
        e.message.includes('[3, 32]') &&
        e.message.includes('[2, 32]'),
    );
  });

  it('a classifier cannot generate or judge, and a causal LM cannot classify: clear errors', async () => {
    const config = classifierToyConfig(1);
    const model = createLlamaModel(config, createRandomLlamaWeights(config, 1), stories);
    closers.push(() => model.close());
    await assert.rejects(
      generate(model, ['Once'], { maxNewTokens: 1 }),
      (e) => isModelError(e) && /sequence classifier \(score\.weight, no LM head\)/.test(e.message),
    );
    await assert.rejects(
      model.scoreLast(leftPadBatch([[1, 2, 3]], 0), [1, 2]), // the judge graph
      (e) => isModelError(e) && /sequence classifier \(score\.weight, no LM head\)/.test(e.message),
    );
    const lmConfig = qwen3ToyConfig({ vocab_size: 512 });
    const lm = createLlamaModel(lmConfig, createRandomLlamaWeights(lmConfig, 1), stories);
    closers.push(() => lm.close());
    await assert.rejects(
      classify(lm, [{ question: 'Q', answer: 'A' }]),
      (e) =>
        isModelError(e) && e.code === 'INVALID_ARGUMENT' && /no sequence-classification head/.test(e.message),
    );
  });
});
