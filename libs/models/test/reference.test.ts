import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  loadLlamaFamilyConfig,
  loadLlamaWeights,
  logProbOf,
  referenceForward,
  referenceGreedy,
} from '../src/index.js';
import { loadStoriesReference, maxAbsDiff, storiesDir } from './helpers.js';

// The float64 JS forward is the oracle for everything else; first prove it against reference.json.
describe('float64 reference forward vs stories260k reference.json', () => {
  const ref = loadStoriesReference();
  const config = loadLlamaFamilyConfig(storiesDir());
  const weights = loadLlamaWeights(storiesDir(), config);

  for (const c of ref.cases) {
    it(`"${c.prompt}": logits, 48 greedy ids, logprobs`, () => {
      const out = referenceGreedy(config, weights, c.input_ids, 48);
      assert.ok(maxAbsDiff(out.firstLogits, c.last_prompt_position_logits) < 1e-5);
      assert.deepEqual(out.ids, c.generated_ids);
      assert.ok(maxAbsDiff(out.logprobs, c.generated_logprobs) < 1e-5);
    });
  }

  it('left-padded batch gives the same last-position logits as each prompt alone', () => {
    const b = ref.batched;
    const rows = referenceForward(config, weights, {
      inputIds: b.input_ids,
      attentionMask: b.attention_mask,
      positionIds: b.position_ids,
    });
    ref.cases.forEach((c, i) => {
      const last = rows[i]![rows[i]!.length - 1]!;
      assert.ok(maxAbsDiff(last, c.last_prompt_position_logits) < 1e-5, c.prompt);
      assert.ok(Math.abs(logProbOf(last, c.generated_ids[0]!) - c.generated_logprobs[0]!) < 1e-5);
    });
  });
});
