import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createRandomLlamaWeights,
  type FamilyModel,
  generate,
  isModelError,
  judge,
  llamaConfigToJson,
  loadModel,
  locateSharedDir,
  toWeightMap,
  writeSafetensors,
} from '../src/index.js';
import { qwen3ToyConfig } from './helpers.js';

// releaseWeightsAfterLoad: an inference-only model lets its JS weights go once the sessions of its
// role have loaded, and then runs exactly as a model that keeps them.

/** `gc()` without --expose-gc on the command line (the test runner passes no flags). */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const isInvalid = (pattern: RegExp) => (e: unknown) =>
  isModelError(e) && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message);

const PROMPTS = ['The answer is', 'Question: 2+2?'];
const ITEMS = [
  { question: 'What is 2+2?', answer: '4' },
  { question: 'Name a colour.', answer: 'Blue, or maybe green.' },
];

/** Greedy and sampled rows through the KV-buffer decode graph, then the judge: everything a model runs. */
async function runAll(model: FamilyModel) {
  const greedy = await generate(model, PROMPTS, { maxNewTokens: 12, temperature: 0 });
  const sampled = await generate(model, PROMPTS, { maxNewTokens: 12, temperature: 1, seed: 7 });
  const verdicts = await judge(model, ITEMS);
  return {
    rows: [...greedy, ...sampled].map((g) => ({ ids: g.ids, logprobs: g.logprobs })),
    verdicts,
  };
}

describe('releaseWeightsAfterLoad', () => {
  // A Qwen3-shaped random model with the real Qwen3 tokenizer (judge() needs its Yes/No tokens),
  // loaded through loadModel like the services' models.
  const dir = mkdtempSync(join(tmpdir(), 'models-release-'));
  const config = qwen3ToyConfig({ vocab_size: 151_936, eos_token_id: 151_645, tie_word_embeddings: true });
  const weightBytes = () =>
    [...createRandomLlamaWeights(config, 5, 1.5).values()].reduce((n, w) => n + w.byteLength, 0);
  before(() => {
    writeSafetensors(
      join(dir, 'model.safetensors'),
      toWeightMap(config, createRandomLlamaWeights(config, 5, 1.5)),
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify(llamaConfigToJson(config)));
    cpSync(join(locateSharedDir(), 'tokenizers', 'qwen3'), dir, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  // minBufferedPositions 0: decode steps run the KV-buffer graph, so all three graphs load.
  const open: FamilyModel[] = [];
  const load = (options: Parameters<typeof loadModel>[1] = {}) => {
    const model = loadModel(dir, { minBufferedPositions: 0, ...options });
    open.push(model);
    return model;
  };
  after(() => Promise.all(open.map((m) => m.close())));

  it('runs generation and the judge bit-identically to the default model, and holds no weights after', async () => {
    const kept = load();
    const released = load({ releaseWeightsAfterLoad: 'all' });
    const bytes = weightBytes();
    assert.equal(kept.weightBytesHeld(), bytes);
    assert.equal(released.weightBytesHeld(), bytes, 'held until the sessions load');
    // Weak references only: the arrays must become garbage once the model lets go.
    const refs = [...released.weights.values()].map((w) => new WeakRef(w));

    const expected = await runAll(kept);
    const got = await runAll(released);
    assert.deepEqual(got.rows, expected.rows);
    assert.deepEqual(got.verdicts, expected.verdicts);
    assert.ok(expected.verdicts.every((v) => Number.isFinite(v.score)));

    assert.equal(released.weightBytesHeld(), 0);
    assert.throws(() => released.weights, isInvalid(/released .*releaseWeightsAfterLoad/));
    assert.equal(kept.weightBytesHeld(), bytes, 'the default keeps them');
    // Nothing else (a graph builder, a closure, the model bytes) keeps them alive.
    const gc = collectGarbage();
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve)); // no deref() before the last gc
    }
    assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'every weight array was collected');
  });

  it("'judge' releases after the judge session and refuses generation; 'generation' the other way", async () => {
    const judgeOnly = load({ releaseWeightsAfterLoad: 'judge' });
    await assert.rejects(
      generate(judgeOnly, PROMPTS, { maxNewTokens: 2 }),
      isInvalid(/releaseWeightsAfterLoad: 'judge', which does not run the prefill graph/),
    );
    assert.ok(judgeOnly.weightBytesHeld() > 0);
    await judge(judgeOnly, ITEMS);
    assert.equal(judgeOnly.weightBytesHeld(), 0);

    const generator = load({ releaseWeightsAfterLoad: 'generation' });
    await generator.loadGenerationSessions();
    assert.equal(generator.weightBytesHeld(), 0, 'prefill and decode loaded: released');
    await assert.rejects(
      judge(generator, ITEMS),
      isInvalid(/releaseWeightsAfterLoad: 'generation', which does not run the judge graph/),
    );
    const [row] = await generate(generator, PROMPTS.slice(0, 1), { maxNewTokens: 4, temperature: 0 });
    assert.equal(row!.ids.length, 4);
  });

  it('an unknown role is one INVALID_ARGUMENT naming the option and its values', () => {
    assert.throws(
      () => loadModel(dir, { releaseWeightsAfterLoad: 'training' as never }),
      isInvalid(/releaseWeightsAfterLoad must be one of generation, judge, all, classify \(got "training"\)/),
    );
  });
});
