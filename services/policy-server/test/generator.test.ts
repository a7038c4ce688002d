import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate, type LlamaModel, loadLlamaModel } from '@verdict/models';
import { VerdictError } from '@verdict/runtime';
import { createModelHolder, type ModelHolder } from '../src/domain/model-holder.js';
import {
  createGenerator,
  type Generator,
  type SequenceEvent,
  type SequenceSpec,
} from '../src/generation/generator.js';
import { stories260kDir } from './fixture.js';

// The generator over the real stories260k model: scheduling around @verdict/models generation.

describe('generator (batch queue over @verdict/models generate)', () => {
  let model: LlamaModel;
  let holder: ModelHolder<LlamaModel>;
  let generator: Generator;
  before(() => {
    model = loadLlamaModel(stories260kDir());
    holder = createModelHolder<LlamaModel>({ closeModel: (m) => m.close() });
    holder.install(model, 3n);
    generator = createGenerator({ holder, maxBatchSize: 8, maxWaitMs: 50, maxPendingSequences: 64 });
  });
  after(async () => {
    await generator.close();
    await holder.close();
  });

  const spec = (prompt: string, o: Partial<SequenceSpec> = {}): SequenceSpec => ({
    promptIds: model.tokenizer.encode(prompt),
    sampling: { temperature: 0, topK: 0, topP: 1 },
    seed: 0,
    maxNewTokens: 20,
    stopTokenIds: new Set([2]),
    stopStrings: [],
    ...o,
  });

  async function drain(events: AsyncIterable<SequenceEvent>): Promise<SequenceEvent[]> {
    const out: SequenceEvent[] = [];
    for await (const e of events) out.push(e);
    return out;
  }

  it('a cancelled call ends with CANCELLED while its batch mate finishes; nothing stays pending', async () => {
    const stop = new AbortController();
    const a = generator.start([spec('Once upon a time', { maxNewTokens: 40 })]);
    const b = generator.start([spec('Tom saw', { maxNewTokens: 40, stopTokenIds: new Set() })], {
      signal: stop.signal,
    });
    let seen = 0;
    const bDone = (async () => {
      for await (const e of b.events) if (e.kind === 'token' && ++seen === 3) stop.abort();
    })();
    const [aEvents] = await Promise.all([drain(a.events), assert.rejects(bDone, { code: 'CANCELLED' })]);
    const finish = aEvents.at(-1)!;
    assert.equal(finish.kind, 'finish');
    const [want] = await generate(model, ['Once upon a time'], { maxNewTokens: 40 });
    assert.deepEqual(finish.kind === 'finish' && finish.result.ids, want!.ids);
    assert.equal(seen, 3);
    assert.equal(generator.pending, 0);
  });

  it('a reader that stops early cancels its sequences (no leak)', async () => {
    const h = generator.start([spec('Once upon a time', { maxNewTokens: 200, stopTokenIds: new Set() })]);
    for await (const e of h.events) if (e.kind === 'token') break;
    for (let i = 0; i < 100 && generator.pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(generator.pending, 0);
  });

  it('a ModelError from generation reaches the caller as a VerdictError with its code, not INTERNAL', async () => {
    // The wire path validates sampling first; a spec that skips it shows the engine's own error.
    const h = generator.start([
      spec('Once upon a time', { sampling: { temperature: -1, topK: 0, topP: 1 } }),
    ]);
    await assert.rejects(drain(h.events), (e: unknown) => {
      const mapped = VerdictError.from(e);
      assert.equal(mapped.code, 'INVALID_ARGUMENT');
      assert.match(mapped.message, /prompt 0: temperature must be a finite number >= 0 \(got -1\)/);
      return true;
    });
    assert.equal(generator.pending, 0);
  });
});
