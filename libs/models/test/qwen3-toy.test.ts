import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createLlamaModel,
  generate,
  isModelError,
  judge,
  leftPadBatch,
  logProbOf,
  referenceForward,
  referenceGreedy,
} from '../src/index.js';
import { maxAbsDiff, qwen3ToyModelParts } from './helpers.js';

// A random-weight model with a Qwen3-shaped config (q/k norm, GQA 4:2, head_dim 16 ≠ 32/4,
// untied head, rope_theta 1e6) checked against the float64 JS reference.
describe('Qwen3-shaped random model', () => {
  const { config, weights, tokenizer } = qwen3ToyModelParts();
  const model = createLlamaModel(config, weights, tokenizer);
  after(() => model.close());
  const prompts = ['The capital of France is', 'Natalia sold clips to 48 of her friends in April.'];

  it('builds and generates greedily, batched, matching the float64 reference', async () => {
    const outs = await generate(model, prompts, {
      maxNewTokens: 6,
      temperature: 0,
      returnPromptLogits: true,
      stopTokenIds: [],
    });
    for (const [i, out] of outs.entries()) {
      const ref = referenceGreedy(config, weights, out.promptIds, 6);
      assert.ok(maxAbsDiff(out.promptLogits!, ref.firstLogits) < 1e-4, `prompt ${i} logits`);
      assert.deepEqual(out.ids, ref.ids, `prompt ${i} ids`);
      assert.ok(maxAbsDiff(out.logprobs, ref.logprobs) < 1e-4, `prompt ${i} logprobs`);
    }
  });

  it('same seed → identical samples; logprobs are of the unmodified distribution', async () => {
    const opts = { maxNewTokens: 5, temperature: 0.8, topK: 50, topP: 0.9, seed: 1234, stopTokenIds: [] };
    const a = await generate(model, prompts, opts);
    const b = await generate(model, prompts, opts);
    assert.deepEqual(
      a.map((g) => g.ids),
      b.map((g) => g.ids),
    );
    const c = await generate(model, prompts, { ...opts, seed: 99 });
    assert.notDeepEqual(
      a.map((g) => g.ids),
      c.map((g) => g.ids),
    );
    // Recompute log_softmax of the raw float64 logits along the sampled path.
    const g = a[0]!;
    const seq = [...g.promptIds, ...g.ids];
    const rows = referenceForward(config, weights, { inputIds: [seq] })[0]!;
    g.ids.forEach((id, t) => {
      const expected = logProbOf(rows[g.promptIds.length - 1 + t]!, id);
      assert.ok(Math.abs(g.logprobs[t]! - expected) < 1e-4, `step ${t}`);
    });
  });

  it('the judge graph gives the LM graph Yes/No logits at the last position, left or right padded', async () => {
    const items = [
      { question: 'What is 2+2?', answer: '4' },
      {
        question: 'Natalia sold 48 clips in April and half as many in May. How many in total?',
        answer: '72',
      },
    ];
    const results = await judge(model, items);
    const { yesId, noId } = results[0]!;
    assert.equal(yesId, tokenizer.tokenToId('Yes'));
    assert.equal(noId, tokenizer.tokenToId('No'));
    const rows = items.map((it) =>
      tokenizer.encode(
        tokenizer.applyChatTemplate(
          [
            {
              role: 'user',
              content: `Question: ${it.question}\nSolution: ${it.answer}\nIs this solution correct? Answer Yes or No.`,
            },
          ],
          { enableThinking: false },
        ),
        { addSpecialTokens: false },
      ),
    );
    const batch = leftPadBatch(rows, tokenizer.padId!);
    const lm = await model.step(batch, undefined);
    const V = config.vocabSize;
    results.forEach((r, b) => {
      const logits = lm.lastLogits.subarray(b * V, (b + 1) * V);
      assert.ok(Math.abs(r.zYes - logits[yesId]!) < 1e-5, `row ${b} yes`);
      assert.ok(Math.abs(r.zNo - logits[noId]!) < 1e-5, `row ${b} no`);
      assert.ok(Math.abs(Math.log(r.pYesFull) - logProbOf(logits, yesId)) < 1e-4);
      assert.ok(Math.abs(r.score - 1 / (1 + Math.exp(-(r.zYes - r.zNo)))) < 1e-12);
      assert.ok(Math.abs(r.pYesFull + r.pNoFull + r.otherMass - 1) < 1e-6);
    });
    // Right padding: the graph finds the last 1 of the mask.
    const T = batch.seqLen;
    const right = {
      ...batch,
      inputIds: rows.flatMap((r) => [...r, ...Array<number>(T - r.length).fill(0)]),
      attentionMask: rows.flatMap((r) => [...r.map(() => 1), ...Array<number>(T - r.length).fill(0)]),
      positionIds: rows.flatMap((r) => [...r.map((_, i) => i), ...Array<number>(T - r.length).fill(0)]),
    };
    const scored = await model.scoreLast(right, [yesId, noId]);
    results.forEach((r, b) => {
      assert.ok(Math.abs(scored.selectedLogits[b * 2]! - r.zYes) < 1e-4);
      assert.ok(Math.abs(scored.selectedLogits[b * 2 + 1]! - r.zNo) < 1e-4);
    });
    // And the float64 oracle agrees on the last-position logits.
    const refRows = referenceForward(config, weights, { inputIds: [rows[0]!] })[0]!;
    assert.ok(Math.abs(refRows[refRows.length - 1]![yesId]! - results[0]!.zYes) < 1e-4);
  });

  it('bad inputs give one clear error each', async () => {
    const tooLong = { ids: Array<number>(config.maxPositionEmbeddings + 1).fill(5) };
    const cases: [Parameters<typeof generate>[1], Parameters<typeof generate>[2], RegExp][] = [
      [[tooLong], {}, /prompt 0 has 65 tokens, more than the model's max_position_embeddings \(64\)/],
      [['x'], { temperature: Number.NaN }, /temperature must be a finite number >= 0/],
      [['x'], { temperature: Number.POSITIVE_INFINITY }, /temperature must be a finite number >= 0/],
      [['x'], { temperature: -0.5 }, /temperature must be a finite number >= 0/],
      [['x'], { topP: 0 }, /top_p must be in \(0, 1\]/],
      [['x'], { topP: 1.5 }, /top_p must be in \(0, 1\]/],
      [['x'], { topK: -1 }, /top_k must be an integer >= 0/],
      [['x'], { maxNewTokens: 0 }, /max_new_tokens must be an integer >= 1/],
      [[{ ids: [config.vocabSize] }], {}, /outside \[0, 151936\)/],
    ];
    for (const [p, o, re] of cases) {
      await assert.rejects(
        generate(model, p, o),
        (e) => isModelError(e) && e.code === 'INVALID_ARGUMENT' && re.test(e.message),
      );
    }
  });

  it('stops at max positions instead of overflowing RoPE', async () => {
    const [out] = await generate(model, [{ ids: Array<number>(62).fill(7) }], {
      maxNewTokens: 10,
      stopTokenIds: [],
    });
    assert.equal(out!.ids.length, 2);
    assert.equal(out!.finishReason, 'max_positions');
  });
});
