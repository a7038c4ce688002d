import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSession, createTensor, type Session, type Tensor, toOnnxModel } from '@verdict/graph';
import {
  buildOptInferenceGraph,
  type FamilyModel,
  generate,
  leftPadBatch,
  loadModel,
  loadOptConfig,
  loadOptWeights,
  type OptConfig,
} from '../src/index.js';
import { idTokenizer, loadOptReference, OPT_TINY, optTinyDir } from './opt-helpers.js';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length, 'compared arrays differ in length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const int64 = (xs: readonly number[]) => BigInt64Array.from(xs.map(BigInt));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Every-position logits [batch, seq, vocab] of the inference graph ('all' logits, empty cache). */
async function allLogits(
  session: Session,
  config: OptConfig,
  rows: readonly (readonly number[])[],
  mask: readonly (readonly number[])[],
): Promise<Float32Array> {
  const B = rows.length;
  const T = rows[0]!.length;
  const feeds: Record<string, Tensor> = {
    input_ids: createTensor('int64', [B, T], int64(rows.flat())),
    attention_mask: createTensor('int64', [B, T], int64(mask.flat())),
    // Plain 0..T-1 whatever the padding: the OPT graph derives positions from the mask.
    position_ids: createTensor('int64', [B, T], int64(rows.flatMap(() => range(T)))),
  };
  for (let l = 0; l < config.numLayers; l++) {
    for (const kind of ['key', 'value'])
      feeds[`past_key_values.${l}.${kind}`] = createTensor('float32', [
        B,
        config.numHeads,
        0,
        config.headDim,
      ]);
  }
  return (await session.run(feeds))['logits']!.data as Float32Array;
}

for (const name of OPT_TINY) {
  describe(`${name} (shared/fixtures/opt-tiny) on ONNX Runtime vs reference.json`, () => {
    const dir = optTinyDir(name);
    const ref = loadOptReference(name);
    const config = loadOptConfig(dir);
    const V = config.vocabSize;
    const tol = ref.tolerance;
    const tokenizer = idTokenizer(V);
    let full: Session;
    let model: FamilyModel;
    before(async () => {
      full = await createSession(toOnnxModel(buildOptInferenceGraph(config, loadOptWeights(dir, config))));
      model = loadModel(dir, { tokenizer });
    });
    after(async () => {
      await model.close();
      await full.release();
    });

    it('every-position logits of each case', async (t) => {
      let worst = 0;
      for (const c of ref.cases) {
        const T = c.input_ids.length;
        const logits = await allLogits(full, config, [c.input_ids], [Array<number>(T).fill(1)]);
        const d = maxAbsDiff(logits, c.all_position_logits.flat());
        assert.ok(d <= tol.logits_abs, `case of ${T} ids: max |Δlogit| ${d}`);
        worst = Math.max(worst, d);
      }
      t.diagnostic(`max |Δlogit| over ${ref.cases.length} cases, every position: ${worst.toExponential(2)}`);
    });

    it('greedy generate() from token ids: same ids, log-probs within 1e-4', async (t) => {
      let worst = 0;
      for (const c of ref.cases) {
        const [out] = await generate(model, [{ ids: c.input_ids }], {
          maxNewTokens: ref.generation.max_new_tokens,
          returnPromptLogits: true,
        });
        assert.deepEqual(out!.ids, c.generated_ids);
        const d = maxAbsDiff(out!.logprobs, c.generated_logprobs);
        assert.ok(d <= tol.logprobs_abs, `max |Δlogprob| ${d}`);
        assert.ok(maxAbsDiff(out!.promptLogits!, c.all_position_logits.at(-1)!) <= tol.logits_abs);
        worst = Math.max(worst, d);
      }
      t.diagnostic(`max |Δlogprob| over ${ref.cases.length} cases × 24 tokens: ${worst.toExponential(2)}`);
    });

    it('the batched case as one left-padded batch (pad id 1) matches every row alone', async (t) => {
      const b = ref.batched;
      const prompts = b.input_ids.map((row, i) => row.filter((_, j) => b.attention_mask[i]![j] === 1));
      // The reference batch exactly (pad id 1), with position_ids 0..T-1 that number the pads: the
      // graph must take positions from the mask, or the padded rows' logits move.
      const T = b.input_ids[0]!.length;
      const step = await model.step(
        {
          batchSize: prompts.length,
          seqLen: T,
          inputIds: b.input_ids.flat(),
          attentionMask: b.attention_mask.flat(),
          positionIds: prompts.flatMap(() => range(T)),
        },
        undefined,
      );
      const dStep = maxAbsDiff(step.lastLogits, b.last_position_logits.flat());
      assert.ok(dStep <= tol.logits_abs, `padded batch step: max |Δlogit| ${dStep}`);
      // generate() pads these rows into one batch itself (tokenizer pad id 1, one sub-batch).
      assert.equal(tokenizer.padId, b.pad_token_id);
      const outs = await generate(
        model,
        prompts.map((ids) => ({ ids })),
        { maxNewTokens: b.generated_ids[0]!.length, returnPromptLogits: true },
      );
      let worst = 0;
      outs.forEach((out, i) => {
        assert.deepEqual(out.ids, b.generated_ids[i], `row ${i} ids`);
        assert.ok(maxAbsDiff(out.promptLogits!, b.last_position_logits[i]!) <= tol.logits_abs);
        const d = maxAbsDiff(out.logprobs, b.generated_logprobs[i]!);
        assert.ok(d <= tol.logprobs_abs, `row ${i}: max |Δlogprob| ${d}`);
        worst = Math.max(worst, d);
      });
      t.diagnostic(
        `batched: step max |Δlogit| ${dStep.toExponential(2)}, max |Δlogprob| ${worst.toExponential(2)}`,
      );
    });

    it('KV-cache decode (Concat and buffer graphs) equals full recompute within 1e-5', async (t) => {
      const b = ref.batched;
      const B = b.input_ids.length;
      const T = b.input_ids[0]!.length;
      const cont = b.generated_ids;
      const N = cont[0]!.length;
      const seq = b.input_ids.map((row, i) => [...row, ...cont[i]!]);
      const mask = b.attention_mask.map((m) => [...m, ...Array<number>(N).fill(1)]);
      const reference = await allLogits(full, config, seq, mask); // [B, T+N, V]
      for (const minBufferedPositions of [Number.POSITIVE_INFINITY, 0]) {
        const m = loadModel(dir, { tokenizer, minBufferedPositions });
        try {
          let worst = 0;
          let step = await m.step(
            {
              batchSize: B,
              seqLen: T,
              inputIds: b.input_ids.flat(),
              attentionMask: b.attention_mask.flat(),
              positionIds: Array<number>(B * T).fill(0),
            },
            undefined,
          );
          for (let k = 0; ; k++) {
            const at = T + k - 1; // the position whose next-token logits this step returned
            for (let r = 0; r < B; r++) {
              const want = reference.subarray((r * (T + N) + at) * V, (r * (T + N) + at + 1) * V);
              worst = Math.max(worst, maxAbsDiff(step.lastLogits.subarray(r * V, (r + 1) * V), want));
            }
            if (k === N - 1) break;
            step = await m.step(
              {
                batchSize: B,
                seqLen: 1,
                inputIds: cont.map((row) => row[k]!),
                attentionMask: mask.flatMap((row) => row.slice(0, T + k + 1)),
                positionIds: Array<number>(B).fill(0),
              },
              step.cache,
            );
          }
          assert.ok(worst < 1e-5, `minBufferedPositions ${minBufferedPositions}: max |Δlogit| ${worst}`);
          t.diagnostic(
            `KV decode (minBufferedPositions ${minBufferedPositions}) vs full: ${worst.toExponential(2)}`,
          );
        } finally {
          await m.close();
        }
      }
    });

    it("judge graph: last-position logits and logsumexp equal the LM's", async (t) => {
      const b = ref.batched;
      const prompts = b.input_ids.map((row, i) => row.filter((_, j) => b.attention_mask[i]![j] === 1));
      const input = leftPadBatch(prompts, b.pad_token_id);
      const all = range(V);
      const [scores, lm] = await Promise.all([model.scoreLast(input, all), model.step(input, undefined)]);
      const dLm = maxAbsDiff(scores.selectedLogits, lm.lastLogits);
      assert.ok(dLm < 1e-5, `judge vs LM: max |Δlogit| ${dLm}`);
      assert.ok(maxAbsDiff(scores.logSumExp, lm.lastLogSumExp!) < 1e-5);
      const dRef = maxAbsDiff(scores.selectedLogits, b.last_position_logits.flat());
      assert.ok(dRef <= tol.logits_abs, `judge vs reference: ${dRef}`);
      // A selection of ids reads the same values.
      const some = await model.scoreLast(input, [7, 2, 1000]);
      prompts.forEach((_, r) => {
        for (const [k, id] of [7, 2, 1000].entries())
          assert.equal(some.selectedLogits[r * 3 + k], scores.selectedLogits[r * V + id]);
      });
      t.diagnostic(`judge vs LM ${dLm.toExponential(2)}, vs reference ${dRef.toExponential(2)}`);
    });
  });
}
