import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Generation, generate, loadLlamaModel, type RowOptions, type TokenEvent } from '../src/index.js';
import { loadStoriesReference, maxAbsDiff, storiesDir } from './helpers.js';

function assertSameRow(got: Generation, want: Generation, label: string): void {
  assert.deepEqual(got.ids, want.ids, label);
  assert.equal(got.text, want.text, label);
  assert.equal(got.finishReason, want.finishReason, label);
  // Batched (padded) and single-row runs differ only by float32 rounding.
  assert.ok(maxAbsDiff(got.logprobs, want.logprobs) <= 1e-4, label);
}

describe('generation: per-row settings, seeds, cancellation, onFinish', () => {
  const model = loadLlamaModel(storiesDir());
  after(() => model.close());
  const ref = loadStoriesReference();
  const enc = (text: string) => model.tokenizer.encode(text);

  it('a row with its own seed samples what it samples alone, whatever its batch mates and position', async () => {
    const sampled = { temperature: 1, maxNewTokens: 20 };
    const [alone] = await generate(model, ['Lily liked to'], { ...sampled, seed: 11 });
    const row = { ids: enc('Lily liked to'), seed: 11 };
    const mates = ['Once upon a time', 'The big dog', 'One day'].map((p, k) => ({
      ids: enc(p),
      seed: 100 + k,
    }));
    const first = await generate(model, [row, ...mates], sampled);
    const last = await generate(model, [mates[2]!, { ...mates[0]!, seed: 5 }, row], sampled);
    assertSameRow(first[0]!, alone!, 'position 0');
    assertSameRow(last[2]!, alone!, 'position 2, other mates');
    // A different seed is a different stream (20 sampled tokens at temperature 1 agree by chance ~never).
    const [other] = await generate(model, [{ ...row, seed: 12 }], sampled);
    assert.notDeepEqual(other!.ids, alone!.ids);
  });

  it('without row seeds, the call seed keeps its meaning: row i draws from (seed, i)', async () => {
    const prompts = ['Lily liked to', 'The big dog'];
    const o = { temperature: 1, maxNewTokens: 16, seed: 3 };
    const batch = await generate(model, prompts, o);
    const [first] = await generate(model, [prompts[0]!], o);
    assertSameRow(batch[0]!, first!, 'row 0 = alone with the same seed');
    const swapped = await generate(model, [...prompts].reverse(), o);
    // Row 1's stream now belongs to 'Lily liked to': its sample changes with its position.
    assert.notDeepEqual(swapped[1]!.ids, batch[0]!.ids);
  });

  it('rows with different sampling, limits and stops share a batch and each equals its own run', async () => {
    const specs: { prompt: string; o: RowOptions }[] = [
      { prompt: 'Once upon a time', o: { temperature: 0, maxNewTokens: 20 } },
      { prompt: 'Lily liked to', o: { temperature: 0.9, topK: 40, seed: 7, maxNewTokens: 30 } },
      { prompt: 'The big dog', o: { temperature: 1.2, topP: 0.8, seed: 123, maxNewTokens: 12 } },
      { prompt: 'One day', o: { temperature: 0, maxNewTokens: 40, stopStrings: ['.'] } },
      { prompt: 'Tom saw', o: { temperature: 0, maxNewTokens: 40, stopTokenIds: [enc('Tom saw a')[3]!] } },
    ];
    const streamed = specs.map(() => '');
    const batch = await generate(
      model,
      specs.map((s) => ({ ids: enc(s.prompt), ...s.o })),
      // Call-level values every row overrides.
      {
        temperature: 2,
        maxNewTokens: 3,
        stopStrings: ['zzz'],
        onToken: (e) => {
          streamed[e.row] += e.textDelta;
        },
      },
    );
    for (const [i, { prompt, o }] of specs.entries()) {
      const [want] = await generate(model, [prompt], { seed: o.seed ?? 0, ...o });
      assertSameRow(batch[i]!, want!, `row ${i}`);
      assert.equal(streamed[i], want!.text, `row ${i} deltas add up to its text`);
    }
    assert.equal(batch[0]!.ids.length, 20);
    assert.equal(batch[2]!.ids.length, 12);
    assert.equal(batch[3]!.finishReason, 'stop_string');
    assert.ok(!streamed[3]!.includes('.'), 'a stop string is never streamed');
  });

  it('a row whose signal aborts ends as cancelled before its next token; the others go on', async () => {
    const stop = new AbortController();
    const events: TokenEvent[] = [];
    const finished: [number, Generation][] = [];
    const c = ref.cases[0]!;
    const outs = await generate(
      model,
      [{ ids: enc(c.prompt) }, { ids: enc('Tom saw'), signal: stop.signal }],
      {
        maxNewTokens: 30,
        stopTokenIds: [],
        onToken: (e) => {
          events.push(e);
          if (e.row === 1 && e.index === 2) stop.abort();
        },
        onFinish: (row, g) => finished.push([row, g]),
      },
    );
    assert.equal(outs[1]!.finishReason, 'cancelled');
    assert.equal(outs[1]!.ids.length, 3);
    assert.equal(events.filter((e) => e.row === 1).length, 3);
    assert.ok(
      events.every((e) => e.finishReason !== 'cancelled'),
      'no token carries cancelled',
    );
    assert.equal(outs[0]!.finishReason, 'length');
    assert.deepEqual(outs[0]!.ids, c.generated_ids.slice(0, 30));
    // onFinish: once per row, as soon as it ends, with the returned result.
    assert.deepEqual(
      finished.map(([row]) => row),
      [1, 0],
    );
    for (const [row, g] of finished) assert.deepEqual(g, outs[row]);
    assert.ok(outs[0]!.prefillMs > 0 && outs[0]!.decodeMs >= outs[1]!.decodeMs);
  });

  it('the call signal cancels every row; an aborted signal runs nothing', async () => {
    const stop = new AbortController();
    const outs = await generate(model, ['Once upon a time', 'Tom saw'], {
      maxNewTokens: 30,
      stopTokenIds: [],
      signal: stop.signal,
      // Slots follow prompt length: 'Tom saw' (row 1) samples first in each step, so this aborts
      // after both rows have 5 tokens.
      onToken: (e) => {
        if (e.row === 0 && e.index === 4) stop.abort();
      },
    });
    assert.deepEqual(
      outs.map((g) => [g.finishReason, g.ids.length]),
      [
        ['cancelled', 5],
        ['cancelled', 5],
      ],
    );
    let tokens = 0;
    const none = await generate(model, ['Once upon a time'], {
      signal: AbortSignal.abort(),
      onToken: () => tokens++,
    });
    assert.deepEqual(
      none.map((g) => [g.finishReason, g.ids.length, g.text, g.prefillMs]),
      [['cancelled', 0, '', 0]],
    );
    assert.equal(tokens, 0);
  });

  it('bad row settings name the prompt and the limit', async () => {
    const ids = enc('Once upon a time');
    await assert.rejects(
      generate(model, [{ ids }, { ids, maxNewTokens: 0 }]),
      /prompt 1: max_new_tokens must be an integer >= 1 \(got 0\)/,
    );
    await assert.rejects(generate(model, [{ ids, temperature: -1 }]), /prompt 0: temperature must be/);
    await assert.rejects(generate(model, [{ ids, topP: 2 }]), /prompt 0: top_p must be in \(0, 1\]/);
    await assert.rejects(generate(model, [{ ids, seed: 0.5 }]), /prompt 0: seed must be an integer/);
  });
});
