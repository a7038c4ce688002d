import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  checkSamplingOptions,
  type Generation,
  generate,
  type LlamaModel,
  loadLlamaModel,
} from '@verdict/models';
import { stories260kDir } from '../../test/fixture.js';
import { type DecodeResult, type DecodeRow, decodeBatch } from './batch-decode.js';

interface Collected {
  ids: number[];
  logprobs: number[];
  streamed: string;
  result?: DecodeResult;
}

function row(
  model: LlamaModel,
  prompt: string,
  o: {
    temperature?: number;
    topK?: number;
    topP?: number;
    seed?: number;
    maxNewTokens?: number;
    stopStrings?: string[];
  },
  into: Collected,
): DecodeRow {
  return {
    promptIds: model.tokenizer.encode(prompt),
    sampling: checkSamplingOptions(o),
    seed: o.seed ?? 0,
    maxNewTokens: o.maxNewTokens ?? 24,
    stopTokenIds: new Set([
      ...model.config.eosTokenIds,
      ...(model.tokenizer.eosId === undefined ? [] : [model.tokenizer.eosId]),
    ]),
    stopStrings: o.stopStrings ?? [],
    isCancelled: () => false,
    onToken(id, logprob, delta) {
      into.ids.push(id);
      into.logprobs.push(logprob);
      into.streamed += delta;
    },
    onFinish(result) {
      into.result = result;
      into.streamed += result.textDelta;
    },
  };
}

const collected = (): Collected => ({ ids: [], logprobs: [], streamed: '' });

function assertSame(got: Collected, want: Generation): void {
  assert.deepEqual(got.ids, want.ids);
  assert.deepEqual(got.result?.ids, want.ids);
  assert.equal(got.result?.text, want.text);
  assert.equal(got.streamed, want.text, 'streamed deltas add up to the final text');
  assert.equal(got.result?.finishReason, want.finishReason);
  assert.equal(got.logprobs.length, want.logprobs.length);
  // Batched (padded) and single-row runs differ only by float32 rounding.
  for (let i = 0; i < want.logprobs.length; i++)
    assert.ok(
      Math.abs(got.logprobs[i]! - want.logprobs[i]!) < 1e-4,
      `logprob ${i}: ${got.logprobs[i]} vs ${want.logprobs[i]}`,
    );
}

describe('decodeBatch (per-row sampling, per-token callbacks)', () => {
  let model: LlamaModel;
  before(() => {
    model = loadLlamaModel(stories260kDir());
  });
  after(async () => {
    await model.close();
  });

  it('matches generate() row by row when differently-sampled prompts share one batch', async () => {
    const specs = [
      { prompt: 'Once upon a time', o: { temperature: 0, maxNewTokens: 20 } },
      { prompt: 'Lily liked to', o: { temperature: 0.9, topK: 40, seed: 7, maxNewTokens: 30 } },
      { prompt: 'The big dog', o: { temperature: 1.2, topP: 0.8, seed: 123, maxNewTokens: 12 } },
      { prompt: 'One day', o: { temperature: 0, maxNewTokens: 40, stopStrings: ['.'] } },
    ];
    const got = specs.map(() => collected());
    await decodeBatch(
      model,
      specs.map((s, i) => row(model, s.prompt, s.o, got[i]!)),
    );
    for (let i = 0; i < specs.length; i++) {
      const { prompt, o } = specs[i]!;
      const [want] = await generate(model, [prompt], o);
      assertSame(got[i]!, want!);
    }
    assert.equal(got[3]!.result?.finishReason, 'stop_string');
    assert.ok(!got[3]!.streamed.includes('.'), 'a stop string is never streamed');
  });

  it('stops decoding a cancelled row without finishing it', async () => {
    const a = collected();
    const b = collected();
    const rowA = row(model, 'Once upon a time', { maxNewTokens: 30 }, a);
    let cancelled = false;
    const rowB = { ...row(model, 'Tom saw', { maxNewTokens: 30 }, b), isCancelled: () => cancelled };
    const onToken = rowB.onToken;
    rowB.onToken = (id, lp, d) => {
      onToken(id, lp, d);
      if (b.ids.length === 3) cancelled = true;
    };
    await decodeBatch(model, [rowA, rowB]);
    assert.equal(b.ids.length, 3);
    assert.equal(b.result, undefined);
    const [want] = await generate(model, ['Once upon a time'], { maxNewTokens: 30 });
    assertSame(a, want!);
  });
});
