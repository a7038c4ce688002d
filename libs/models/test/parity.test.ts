import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { generate, leftPadBatch, loadLlamaModel } from '../src/index.js';
import { loadStoriesReference, maxAbsDiff, storiesDir } from './helpers.js';

// Acceptance: the ONNX model reproduces reference.json (computed independently in float64).
describe('stories260k on ONNX Runtime vs reference.json', () => {
  const ref = loadStoriesReference();
  const model = loadLlamaModel(storiesDir());
  after(() => model.close());
  const tol = ref.tolerance;

  for (const c of ref.cases) {
    it(`"${c.prompt}" alone: last-prompt logits, 48 greedy ids, logprobs`, async () => {
      const [out] = await generate(model, [c.prompt], {
        maxNewTokens: 48,
        temperature: 0,
        returnPromptLogits: true,
      });
      assert.deepEqual(out!.promptIds, c.input_ids);
      const dLogits = maxAbsDiff(out!.promptLogits!, c.last_prompt_position_logits);
      assert.ok(dLogits <= tol.logits_abs, `logits max abs diff ${dLogits}`);
      assert.deepEqual(out!.ids, c.generated_ids);
      const dLp = maxAbsDiff(out!.logprobs, c.generated_logprobs);
      assert.ok(dLp <= tol.logprobs_abs, `logprobs max abs diff ${dLp}`);
      assert.equal(out!.text, c.generated_text);
      assert.equal(out!.finishReason, 'length');
    });
  }

  it('all prompts in one left-padded batch give the same ids, logits and logprobs', async () => {
    const outs = await generate(
      model,
      ref.cases.map((c) => c.prompt),
      { maxNewTokens: 48, temperature: 0, returnPromptLogits: true },
    );
    ref.cases.forEach((c, i) => {
      const out = outs[i]!;
      assert.ok(maxAbsDiff(out.promptLogits!, c.last_prompt_position_logits) <= tol.logits_abs, c.prompt);
      assert.deepEqual(out.ids, c.generated_ids, c.prompt);
      assert.ok(maxAbsDiff(out.logprobs, c.generated_logprobs) <= tol.logprobs_abs, c.prompt);
    });
  });

  it('the batch fed exactly as reference.json (mask, HF position ids) matches', async () => {
    const b = ref.batched;
    const input = leftPadBatch(
      ref.cases.map((c) => c.input_ids),
      b.pad_token_id,
    );
    assert.deepEqual(input.attentionMask, b.attention_mask.flat());
    assert.deepEqual(input.positionIds, b.position_ids.flat());
    const out = await model.step(input, undefined);
    ref.cases.forEach((c, i) => {
      const row = out.lastLogits.subarray(i * 512, (i + 1) * 512);
      assert.ok(maxAbsDiff(row, c.last_prompt_position_logits) <= tol.logits_abs);
    });
  });

  it('KV-cache decoding gives the same logits as re-running the full sequence', async () => {
    const c = ref.cases[1]!;
    const seq = [...c.input_ids, ...c.generated_ids.slice(0, 20)];
    const ones = (n: number) => Array<number>(n).fill(1);
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
    // Prefill the prompt, then feed the continuation one token at a time through the cache.
    let step = await model.step(
      {
        batchSize: 1,
        seqLen: c.input_ids.length,
        inputIds: c.input_ids,
        attentionMask: ones(c.input_ids.length),
        positionIds: range(0, c.input_ids.length),
      },
      undefined,
    );
    for (let t = c.input_ids.length; t < seq.length; t++) {
      step = await model.step(
        { batchSize: 1, seqLen: 1, inputIds: [seq[t]!], attentionMask: ones(t + 1), positionIds: [t] },
        step.cache,
      );
    }
    const full = await model.step(
      {
        batchSize: 1,
        seqLen: seq.length,
        inputIds: seq,
        attentionMask: ones(seq.length),
        positionIds: range(0, seq.length),
      },
      undefined,
    );
    const d = maxAbsDiff(step.lastLogits, full.lastLogits);
    assert.ok(d < 1e-5, `cached vs full max abs diff ${d}`);
    assert.equal(step.cache.length, seq.length);
  });
});
