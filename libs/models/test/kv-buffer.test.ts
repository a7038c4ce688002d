import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createKvBufferCausalLm, type KvBufferCache } from '../src/generate/kv-buffer-causal-lm.js';
import {
  type CausalLm,
  createLlamaModel,
  createRandomLlamaWeights,
  generate,
  type LlamaFamilyConfig,
  type LlamaWeights,
  loadLlamaFamilyConfig,
  loadLlamaWeights,
  loadModelTokenizer,
  type ModelTokenizer,
} from '../src/index.js';
import { loadStoriesReference, maxAbsDiff, qwen3ToyConfig, storiesDir } from './helpers.js';

// The KV-buffer decode path (cache in JS-owned buffers, the graph returns only new keys/values)
// against the Concat path of createLlamaModel: same greedy ids, logprobs within 1e-5 and logits
// within 4e-5 (absolute) at every step. Measured on stories260k: logprobs ≤ 6e-6, logits ≤ 3e-5
// (float32 rounding of another summation order; the Concat path itself moves logits by 1.4e-5
// between a prompt alone and the same prompt in a batch).

const LOGPROBS_TOL = 1e-5;
const LOGITS_TOL = 4e-5;

/** Wraps a model so every step's last logits are kept (copied: the next step may reuse buffers). */
function recording<C>(model: CausalLm<C>): { model: CausalLm<C>; logits: Float32Array[] } {
  const logits: Float32Array[] = [];
  const wrapped: CausalLm<C> = {
    config: model.config,
    tokenizer: model.tokenizer,
    concurrency: model.concurrency ?? 1,
    async step(input, cache) {
      const out = await model.step(input, cache);
      logits.push(Float32Array.from(out.lastLogits));
      return out;
    },
    ...(model.compactCache ? { compactCache: model.compactCache.bind(model) } : {}),
    // Compaction and release pass through, so generation drops finished rows on both paths.
    ...(model.compactCache ? { compactCache: model.compactCache.bind(model) } : {}),
    ...(model.releaseCache ? { releaseCache: model.releaseCache.bind(model) } : {}),
    close: () => model.close(),
  };
  return { model: wrapped, logits };
}

interface Pair {
  readonly concat: CausalLm;
  readonly buffered: CausalLm;
}

function pair(config: LlamaFamilyConfig, weights: LlamaWeights, tokenizer: ModelTokenizer): Pair {
  return {
    concat: createLlamaModel(config, weights, tokenizer, { minBufferedPositions: Number.POSITIVE_INFINITY }),
    // Buffers from the first decode step; a small growth step makes them regrow (and be repacked)
    // several times per generation.
    buffered: createKvBufferCausalLm(config, weights, tokenizer, {
      growthPositions: 5,
      minBufferedPositions: 0,
    }),
  };
}

/** Generates with both paths; asserts identical ids and per-step logits / logprobs within TOL. */
async function assertSamePath(
  p: Pair,
  prompts: readonly (string | { ids: number[] })[],
  options: Parameters<typeof generate>[2],
): Promise<{ steps: number; dLogits: number; dLogprobs: number }> {
  const a = recording(p.concat);
  const b = recording(p.buffered);
  const outA = await generate(a.model, prompts, options);
  const outB = await generate(b.model, prompts, options);
  for (const [i, o] of outA.entries()) assert.deepEqual(outB[i]!.ids, o.ids, `row ${i} ids`);
  const dLogprobs = Math.max(...outA.map((o, i) => maxAbsDiff(o.logprobs, outB[i]!.logprobs)));
  assert.equal(b.logits.length, a.logits.length);
  const dLogits = Math.max(...a.logits.map((l, s) => maxAbsDiff(l, b.logits[s]!)));
  assert.ok(dLogits <= LOGITS_TOL, `logits max abs diff ${dLogits} (logprobs ${dLogprobs})`);
  assert.ok(dLogprobs <= LOGPROBS_TOL, `logprobs max abs diff ${dLogprobs}`);
  return { steps: a.logits.length, dLogits, dLogprobs };
}

function report(
  t: { diagnostic(message: string): void },
  r: { steps: number; dLogits: number; dLogprobs: number },
) {
  t.diagnostic(
    `${r.steps} steps: logits max abs diff ${r.dLogits.toExponential(2)}, logprobs ${r.dLogprobs.toExponential(2)}`,
  );
}

describe('KV-buffer decode vs the Concat path', () => {
  const ref = loadStoriesReference();
  const dir = storiesDir();
  const storiesConfig = loadLlamaFamilyConfig(dir);
  const stories = pair(storiesConfig, loadLlamaWeights(dir, storiesConfig), loadModelTokenizer(dir));
  const greedy = { maxNewTokens: 40, temperature: 0, stopTokenIds: [] as number[] };
  after(async () => {
    await stories.concat.close();
    await stories.buffered.close();
  });

  for (const c of ref.cases) {
    it(`stories260k "${c.prompt}" alone: 40 steps, same ids as reference.json`, async (t) => {
      const r = await assertSamePath(stories, [c.prompt], greedy);
      report(t, r);
      assert.equal(r.steps, 40);
      const [out] = await generate(stories.buffered, [c.prompt], { maxNewTokens: 48, temperature: 0 });
      assert.deepEqual(out!.ids, c.generated_ids);
      assert.ok(maxAbsDiff(out!.logprobs, c.generated_logprobs) <= ref.tolerance.logprobs_abs);
    });
  }

  it('stories260k: all prompts in one left-padded batch', async (t) => {
    const r = await assertSamePath(
      stories,
      ref.cases.map((c) => c.prompt),
      greedy,
    );
    assert.equal(r.steps, 40);
    report(t, r);
    const outs = await generate(
      stories.buffered,
      ref.cases.map((c) => c.prompt),
      { maxNewTokens: 48, temperature: 0 },
    );
    for (const [i, c] of ref.cases.entries()) assert.deepEqual(outs[i]!.ids, c.generated_ids, c.prompt);
  });

  it('createLlamaModel decodes on the buffers past its threshold (one engine), with both sessions preloaded', async (t) => {
    const tokenizer = loadModelTokenizer(dir);
    const weights = loadLlamaWeights(dir, storiesConfig);
    // Threshold 64 positions over the batch: 3 prompts switch to the buffers after a few steps.
    const model = createLlamaModel(storiesConfig, weights, tokenizer, { minBufferedPositions: 64 });
    try {
      await model.loadGenerationSessions();
      assert.equal(model.executionProvider?.active, 'cpu');
      const r = await assertSamePath(
        { concat: stories.concat, buffered: model },
        ref.cases.map((c) => c.prompt),
        greedy,
      );
      report(t, r);
      // Buffers hold free positions: a capacity beyond the length shows the buffered graph ran.
      const prompt = ref.cases[0]!.prompt;
      let last: { length: number; capacity: number } | undefined;
      const spy = {
        ...model,
        step: async (input: Parameters<typeof model.step>[0], cache: Parameters<typeof model.step>[1]) => {
          const out = await model.step(input, cache);
          last = out.cache;
          return out;
        },
      };
      await generate(spy, [prompt, prompt, prompt, prompt], greedy);
      assert.ok(last !== undefined && last.capacity > last.length, JSON.stringify(last));
    } finally {
      await model.close();
    }
  });

  it('stories260k: rows stopping at different times (finished rows compacted out of the buffers)', async () => {
    const prompts = ref.cases.map((c) => c.prompt);
    const [first] = await generate(stories.concat, prompts, greedy);
    // Stop ids taken from one row's continuation make rows finish at different steps.
    const stopTokenIds = [first!.ids[6]!, first!.ids[19]!];
    await assertSamePath(stories, prompts, { ...greedy, stopTokenIds });
    // The buffered path compacts buffers its session worker holds: the next step takes them back.
    const compactions: number[] = [];
    const counting: CausalLm<KvBufferCache> = {
      ...stories.buffered,
      step: (input, cache) => stories.buffered.step(input, cache as KvBufferCache | undefined),
      compactCache: (cache, rows, drop) => {
        compactions.push(rows.length);
        return (stories.buffered as CausalLm<KvBufferCache>).compactCache!(cache, rows, drop);
      },
    } as CausalLm<KvBufferCache>;
    const [withCompaction, without] = [
      await generate(counting, prompts, { ...greedy, stopTokenIds }),
      await generate(stories.buffered, prompts, { ...greedy, stopTokenIds, compactFinishedRows: false }),
    ];
    assert.ok(compactions.length >= 2, `compactions: ${compactions}`);
    for (const [i, o] of without.entries()) assert.deepEqual(withCompaction[i]!.ids, o.ids, `row ${i}`);
  });

  it('compactions of worker-held buffers compose until the next step, as on held tensors', async () => {
    const prompts = ref.cases.map((c) => c.prompt);
    const tokenizer = stories.concat.tokenizer;
    const rows = prompts.map((p) => tokenizer.encode(p));
    const T = Math.max(...rows.map((r) => r.length));
    const masks = rows.map((r) => [...Array<number>(T - r.length).fill(0), ...r.map(() => 1)]);
    const run = async (m: CausalLm<KvBufferCache>) => {
      let out = await m.step(
        {
          batchSize: rows.length,
          seqLen: T,
          inputIds: rows.flatMap((r) => [...Array<number>(T - r.length).fill(0), ...r]),
          attentionMask: masks.flat(),
          positionIds: masks.flatMap((mk) => mk.map((_, t) => Math.max(0, t - mk.indexOf(1)))),
        },
        undefined,
      );
      let mk = masks.map((x) => [...x]);
      let pos = rows.map((r) => r.length);
      for (let t = 0; t < 6; t++) {
        mk = mk.map((x) => [...x, 1]);
        out = await m.step(
          {
            batchSize: mk.length,
            seqLen: 1,
            inputIds: mk.map(() => 5 + t),
            attentionMask: mk.flat(),
            positionIds: pos,
          },
          out.cache,
        );
        pos = pos.map((p) => p + 1);
      }
      // Two compactions before the next step: keep rows 2,0,1 (of 3), then rows 0 and 2 of those, one position less each time.
      let cache = m.compactCache!(out.cache, [2, 0, 1], 0);
      mk = [2, 0, 1].map((r) => mk[r]!);
      pos = [2, 0, 1].map((r) => pos[r]!);
      cache = m.compactCache!(cache, [0, 2], 1);
      mk = [0, 2].map((r) => mk[r]!.slice(1).concat(1));
      pos = [0, 2].map((r) => pos[r]!);
      const last = await m.step(
        { batchSize: 2, seqLen: 1, inputIds: [7, 7], attentionMask: mk.flat(), positionIds: pos },
        cache,
      );
      await m.releaseCache?.(last.cache);
      return last.lastLogits;
    };
    assert.equal(prompts.length >= 3, true);
    const buffered = createKvBufferCausalLm(storiesConfig, loadLlamaWeights(dir, storiesConfig), tokenizer, {
      minBufferedPositions: 0,
    });
    try {
      const [a, b] = [await run(stories.concat as CausalLm<KvBufferCache>), await run(buffered)];
      assert.ok(maxAbsDiff(a, b) <= LOGITS_TOL, `max |Δlogit| ${maxAbsDiff(a, b)}`);
    } finally {
      await buffered.close();
    }
  });

  it('default growth, switching to buffers mid-generation, a multi-token step on a buffered cache', async () => {
    const model = createKvBufferCausalLm(
      storiesConfig,
      loadLlamaWeights(dir, storiesConfig),
      stories.concat.tokenizer,
      {
        minBufferedPositions: 20,
      },
    );
    try {
      await assertSamePath(
        { concat: stories.concat, buffered: model },
        ref.cases.map((c) => c.prompt),
        greedy,
      );
      const ids = ref.cases[0]!.input_ids;
      const ones = (n: number) => Array<number>(n).fill(1);
      // Below minBufferedPositions (batch 1: the length) the cache stays exact (Concat graph); from it on it lives in buffers.
      let step = await model.step(
        {
          batchSize: 1,
          seqLen: ids.length,
          inputIds: ids,
          attentionMask: ones(ids.length),
          positionIds: ids.map((_, i) => i),
        },
        undefined,
      );
      for (let t = ids.length; t < 24; t++) {
        const cache = step.cache as KvBufferCache;
        assert.equal(cache.capacity > cache.length, t > 20, `at length ${t}`);
        step = await model.step(
          { batchSize: 1, seqLen: 1, inputIds: [5], attentionMask: ones(t + 1), positionIds: [t] },
          cache,
        );
      }
      const steps = async (m: CausalLm) => {
        let out = await m.step(
          {
            batchSize: 1,
            seqLen: ids.length,
            inputIds: ids,
            attentionMask: ones(ids.length),
            positionIds: ids.map((_, i) => i),
          },
          undefined,
        );
        for (const [k, id] of [7, 9, 11].entries()) {
          const t = ids.length + k;
          out = await m.step(
            { batchSize: 1, seqLen: 1, inputIds: [id], attentionMask: ones(t + 1), positionIds: [t] },
            out.cache,
          );
        }
        const t = ids.length + 3;
        if (m === stories.buffered) {
          // The multi-token step must start from a cache with free buffer positions.
          const cache = out.cache as KvBufferCache;
          assert.ok(cache.capacity > cache.length, `capacity ${cache.capacity}, length ${cache.length}`);
        }
        return m.step(
          {
            batchSize: 1,
            seqLen: 2,
            inputIds: [13, 15],
            attentionMask: ones(t + 2),
            positionIds: [t, t + 1],
          },
          out.cache,
        );
      };
      const [a, b] = [await steps(stories.concat), await steps(stories.buffered)];
      assert.ok(maxAbsDiff(a.lastLogits, b.lastLogits) <= LOGITS_TOL);
    } finally {
      await model.close();
    }
  });

  it('GQA 4:1 random Llama, prompts of different lengths in one batch, 36 steps', async (t) => {
    const config = qwen3ToyConfig({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      num_key_value_heads: 1,
      tie_word_embeddings: true,
    });
    assert.ok(config.numKvHeads < config.numHeads);
    const p = pair(config, createRandomLlamaWeights(config, 11, 1.5), stories.concat.tokenizer);
    try {
      const prompts = [{ ids: [3, 7, 1, 9] }, { ids: [5] }, { ids: [8, 8, 2, 4, 6, 1, 3] }];
      const r = await assertSamePath(p, prompts, { maxNewTokens: 36, temperature: 0, stopTokenIds: [] });
      assert.equal(r.steps, 36);
      report(t, r);
    } finally {
      await p.concat.close();
      await p.buffered.close();
    }
  });

  it('Qwen3-style q/k-norm random model (GQA 4:2, untied head), batch and alone, 36 steps', async (t) => {
    const config = qwen3ToyConfig();
    assert.ok(config.qkNorm);
    const p = pair(config, createRandomLlamaWeights(config, 5, 1.5), stories.concat.tokenizer);
    try {
      const prompts = [{ ids: [1, 2, 3, 4, 5, 6] }, { ids: [40, 41] }, { ids: [90, 12, 77] }];
      const opts = { maxNewTokens: 36, temperature: 0, stopTokenIds: [] };
      const r = await assertSamePath(p, prompts, opts);
      assert.equal(r.steps, 36);
      report(t, r);
      for (const prompt of prompts) await assertSamePath(p, [prompt], opts);
      // Sampling too: the same seeded draws need the same distributions.
      await assertSamePath(p, prompts, { ...opts, temperature: 0.9, topP: 0.95, seed: 4 });
    } finally {
      await p.concat.close();
      await p.buffered.close();
    }
  });
});
