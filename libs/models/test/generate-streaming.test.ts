import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createIncrementalText,
  type Generation,
  generate,
  type KvCache,
  type LlamaModel,
  leftPadBatch,
  loadLlamaModel,
  loadModelTokenizer,
  locateSharedDir,
  stopPrefixHoldback,
  type TokenEvent,
} from '../src/index.js';
import { loadStoriesReference, maxAbsDiff, storiesDir } from './helpers.js';

/** The real model, recording each compaction it is asked for. */
function recordCompactions(model: LlamaModel) {
  const calls: { rows: number[]; drop: number; before: number }[] = [];
  const wrapped: LlamaModel = {
    ...model,
    compactCache(cache: KvCache, rows: readonly number[], drop: number) {
      calls.push({ rows: [...rows], drop, before: cache.length });
      return model.compactCache(cache, rows, drop);
    },
  };
  return { wrapped, calls };
}

function assertSameRow(batched: Generation, alone: Generation, label: string) {
  assert.deepEqual(batched.ids, alone.ids, label);
  assert.ok(maxAbsDiff(batched.logprobs, alone.logprobs) <= 1e-4, label);
  assert.equal(batched.text, alone.text, label);
  assert.equal(batched.finishReason, alone.finishReason, label);
}

describe('generation: finished rows, streaming, incremental text', () => {
  const ref = loadStoriesReference();
  const model = loadLlamaModel(storiesDir());
  after(() => model.close());
  const prompts = ref.cases.map((c) => c.prompt);
  // One stop id from each reference continuation: the rows stop after 6, 2 and 16 tokens.
  const stopTokenIds = [
    ref.cases[0]!.generated_ids[5]!,
    ref.cases[1]!.generated_ids[15]!,
    ref.cases[2]!.generated_ids[30]!,
  ];
  const options = { maxNewTokens: 24, temperature: 0, stopTokenIds };

  it('rows that stop at different times give each row-alone result; finished rows leave the batch', async () => {
    const { wrapped, calls } = recordCompactions(model);
    const batched = await generate(wrapped, prompts, options);
    assert.deepEqual(
      batched.map((g) => g.ids.length),
      [6, 2, 16],
    );
    assert.deepEqual(
      batched.map((g) => g.finishReason),
      ['stop_token', 'stop_token', 'stop_token'],
    );
    // Batch slots follow prompt length (The cat 4, Once upon a time 5, Lily… 12 tokens). Row 1
    // (slot 2) leaves first, then row 0 (slot 1): the 7 and 1 columns of left padding only they
    // needed are dropped from the cache too.
    assert.deepEqual(
      calls.map((c) => [c.rows, c.drop]),
      [
        [[0, 1], 7],
        [[0], 1],
      ],
    );
    const uncompacted = await generate(model, prompts, { ...options, compactFinishedRows: false });
    for (const [i, p] of prompts.entries()) {
      const [alone] = await generate(model, [p], options);
      assertSameRow(batched[i]!, alone!, `row ${i} vs alone`);
      assertSameRow(batched[i]!, uncompacted[i]!, `row ${i} vs no compaction`);
      assert.deepEqual(alone!.ids, ref.cases[i]!.generated_ids.slice(0, alone!.ids.length));
    }
  });

  it('onToken streams every token in order; text deltas concatenate to the final text', async () => {
    const events: TokenEvent[] = [];
    const outs = await generate(model, prompts, { ...options, onToken: (e) => events.push(e) });
    for (const [i, out] of outs.entries()) {
      const mine = events.filter((e) => e.row === i);
      assert.deepEqual(
        mine.map((e) => e.index),
        out.ids.map((_, k) => k),
      );
      assert.deepEqual(
        mine.map((e) => e.tokenId),
        out.ids,
      );
      assert.deepEqual(
        mine.map((e) => e.logprob),
        out.logprobs,
      );
      assert.equal(mine.map((e) => e.textDelta).join(''), out.text);
      assert.deepEqual(
        mine.map((e) => e.finishReason),
        [...Array<undefined>(out.ids.length - 1).fill(undefined), out.finishReason],
      );
    }
    // Streaming, not buffering: row 1's tokens arrive before row 2 has finished.
    const lastOfRow1 = events.findIndex((e) => e.row === 1 && e.finishReason !== undefined);
    const lastOfRow2 = events.findIndex((e) => e.row === 2 && e.finishReason !== undefined);
    assert.ok(lastOfRow1 < lastOfRow2);
    assert.ok(events.slice(0, lastOfRow1).some((e) => e.textDelta.length > 0));
  });

  it('with stop strings, streamed text never shows the stop string or its start', async () => {
    const events: TokenEvent[] = [];
    const [out] = await generate(model, [ref.cases[0]!.prompt], {
      maxNewTokens: 48,
      stopStrings: ['girl named'], // spans the tokens "g" "ir" "l" "named"
      onToken: (e) => events.push(e),
    });
    assert.equal(out!.finishReason, 'stop_string');
    assert.equal(out!.text, ', there was a little ');
    let streamed = '';
    for (const e of events) {
      streamed += e.textDelta;
      assert.ok(!streamed.includes('g'), `streamed "${streamed}"`);
    }
    assert.equal(streamed, out!.text);
  });

  it('incremental decoding equals the full decode, token by token (SentencePiece and byte-level BPE)', () => {
    const qwen3 = loadModelTokenizer(join(locateSharedDir(), 'tokenizers', 'qwen3'));
    const stories = loadModelTokenizer(storiesDir());
    const cases = [
      ...ref.cases.map((c) => ({ tok: stories, ids: c.generated_ids })),
      { tok: qwen3, ids: qwen3.encode('naïve café — 猫 🐈 says 你好, x = 3.14159\n  done') },
    ];
    for (const { tok, ids } of cases) {
      const inc = createIncrementalText(tok);
      let deltas = '';
      for (let n = 1; n <= ids.length; n++) {
        deltas += inc.push(ids.slice(0, n));
        assert.ok(tok.decode(ids.slice(0, n)).startsWith(inc.text));
      }
      assert.equal(deltas, tok.decode(ids));
      assert.equal(inc.text, tok.decode(ids));
    }
  });

  it('with 2 session replicas a batch runs as 2 concurrent sub-batches with the same results (generate and judge)', async () => {
    const twin = loadLlamaModel(storiesDir(), { replicas: 2 });
    try {
      assert.equal(twin.concurrency, 2);
      const many = [...prompts, ...prompts, 'Once'];
      const sampled = { maxNewTokens: 20, temperature: 0.9, topK: 40, seed: 3, stopTokenIds };
      const events: TokenEvent[] = [];
      const two = await generate(twin, many, { ...sampled, onToken: (e) => events.push(e) });
      const one = await generate(model, many, sampled);
      for (const [i, g] of two.entries()) assertSameRow(g, one[i]!, `row ${i}`);
      assert.equal(
        events.length,
        two.reduce((n, g) => n + g.ids.length, 0),
      );
      const batch = leftPadBatch(
        ref.cases.map((c) => c.input_ids),
        0,
      );
      const [a, b] = [await twin.scoreLast(batch, [1, 2, 3]), await model.scoreLast(batch, [1, 2, 3])];
      assert.ok(maxAbsDiff(a.selectedLogits, b.selectedLogits) <= 1e-4);
      assert.ok(maxAbsDiff(a.logSumExp, b.logSumExp) <= 1e-4);
      assert.equal(a.logSumExp.length, 3);
      const greedy = await generate(twin, prompts, { maxNewTokens: 48 });
      for (const [i, g] of greedy.entries()) assert.deepEqual(g.ids, ref.cases[i]!.generated_ids);
    } finally {
      await twin.close();
    }
  });

  it('stop-prefix holdback is the longest suffix that may still become a stop string', () => {
    assert.equal(stopPrefixHoldback('a little Li', ['Lily']), 2);
    assert.equal(stopPrefixHoldback('a little L', ['Lily', 'ly']), 1);
    assert.equal(stopPrefixHoldback('end\n', ['\n\n', 'x']), 1);
    assert.equal(stopPrefixHoldback('nothing', ['Lily']), 0);
  });
});
