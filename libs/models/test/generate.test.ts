import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createRng, generate, loadLlamaModel, sampleToken } from '../src/index.js';
import { loadStoriesReference, storiesDir } from './helpers.js';

describe('generation controls', () => {
  const model = loadLlamaModel(storiesDir());
  after(() => model.close());
  const c = loadStoriesReference().cases[0]!;

  it('a stop string cuts the text before it and ends the row', async () => {
    const [out] = await generate(model, [c.prompt], { maxNewTokens: 48, stopStrings: ['Lily'] });
    assert.equal(out!.finishReason, 'stop_string');
    assert.equal(out!.text, ', there was a little girl named ');
    assert.ok(out!.ids.length < 48);
    assert.deepEqual(out!.ids, c.generated_ids.slice(0, out!.ids.length));
  });

  it('a stop token id ends the row and is kept in ids; other rows continue', async () => {
    const stop = c.generated_ids[3]!;
    const outs = await generate(model, [c.prompt, 'The cat'], { maxNewTokens: 10, stopTokenIds: [stop] });
    assert.equal(outs[0]!.finishReason, 'stop_token');
    assert.deepEqual(outs[0]!.ids, c.generated_ids.slice(0, 4));
    const other = outs[1]!;
    const stoppedAt = other.ids.indexOf(stop);
    if (stoppedAt >= 0) assert.equal(other.ids.length, stoppedAt + 1);
    else assert.equal(other.ids.length, 10);
  });

  it('top-k 1 and tiny top-p are greedy whatever the temperature', async () => {
    const [k1] = await generate(model, [c.prompt], { maxNewTokens: 12, temperature: 1.5, topK: 1, seed: 5 });
    const [p0] = await generate(model, [c.prompt], {
      maxNewTokens: 12,
      temperature: 1.5,
      topP: 1e-9,
      seed: 5,
    });
    assert.deepEqual(k1!.ids, c.generated_ids.slice(0, 12));
    assert.deepEqual(p0!.ids, c.generated_ids.slice(0, 12));
  });

  it('sampling follows the tempered distribution (seeded frequency check)', () => {
    const logits = Float32Array.from([0, Math.log(3), -50]);
    const rng = createRng(42);
    const counts = [0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[sampleToken(logits, { temperature: 1, topK: 0, topP: 1 }, rng)]!++;
    assert.equal(counts[2], 0);
    assert.ok(Math.abs(counts[1]! / 4000 - 0.75) < 0.03, `P(1) ≈ ${counts[1]! / 4000}`);
  });

  it('top-k and top-p keep exactly the expected support', () => {
    // Probabilities 0.4, 0.3, 0.2, 0.1 (temperature 1): top_p 0.65 keeps {0, 1}; top_k 3 keeps {0, 1, 2}.
    const logits = Float32Array.from([0.4, 0.3, 0.2, 0.1].map(Math.log));
    const seen = (o: { topK: number; topP: number }) => {
      const rng = createRng(7);
      const s = new Set<number>();
      for (let i = 0; i < 2000; i++) s.add(sampleToken(logits, { temperature: 1, ...o }, rng));
      return [...s].sort();
    };
    assert.deepEqual(seen({ topK: 0, topP: 0.65 }), [0, 1]);
    assert.deepEqual(seen({ topK: 3, topP: 1 }), [0, 1, 2]);
    assert.deepEqual(seen({ topK: 3, topP: 0.75 }), [0, 1]); // 0.4/0.9, 0.3/0.9 → 0.78 ≥ 0.75
    assert.deepEqual(seen({ topK: 0, topP: 1 }), [0, 1, 2, 3]);
  });
});
