import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createLlamaModel,
  createRandomLlamaWeights,
  hasSharedPrefixJudging,
  type JudgeItem,
  type JudgeModel,
  type JudgeResult,
  judge,
  loadModel,
  loadModelTokenizer,
  locateSharedDir,
  planSharedPrefixes,
} from '../src/index.js';
import { qwen3ToyConfig } from './helpers.js';
import { optTinyDir } from './opt-helpers.js';

const TOLERANCE = 1e-5;

/** A Qwen3-shaped random model (q/k norm, GQA, untied head) with the real Qwen3 tokenizer and room for long prompts. */
function qwen3Model(options: { replicas?: number } = {}) {
  const config = qwen3ToyConfig({ vocab_size: 151_936, eos_token_id: 151_645, max_position_embeddings: 512 });
  const weights = createRandomLlamaWeights(config, 5, 1.5);
  const tokenizer = loadModelTokenizer(join(locateSharedDir(), 'tokenizers', 'qwen3'));
  return createLlamaModel(config, weights, tokenizer, options);
}

const question = (n: number) =>
  `A farmer has ${n} sheep and buys ${n + 7} more at the market on Tuesday. How many sheep does the farmer have now?`;

/**
 * Groups sharing their question (answers of different lengths: left-padded suffixes), a group
 * larger than the batch (cut into pieces), a singleton group, a group without a shared prefix,
 * a group of identical items (the prefix stops one token short), and items without a group key.
 */
function mixedItems(): JudgeItem[] {
  const items: JudgeItem[] = [];
  for (let i = 0; i < 7; i++)
    items.push({
      question: question(3),
      answer: `${3} + ${10} = ${13 + i}.${' Check.'.repeat(i)}`,
      groupKey: 'big',
    });
  items.push({ question: 'What is 2+2?', answer: '4' });
  for (let i = 0; i < 3; i++)
    items.push({ question: question(5), answer: `It is ${17 + i * 3}.`, groupKey: 'g5' });
  items.push({ question: question(9), answer: '25', groupKey: 'alone' });
  items.push({ question: question(11), answer: '29', groupKey: 'mixed' });
  items.push({ question: 'Name a prime number between 10 and 20.', answer: '13', groupKey: 'mixed' });
  items.push(
    { question: question(4), answer: '15', groupKey: 'same' },
    { question: question(4), answer: '15', groupKey: 'same' },
  );
  items.push({ question: question(5), answer: 'Twenty.' });
  return items;
}

function maxDiff(a: readonly JudgeResult[], b: readonly JudgeResult[]): number {
  assert.equal(a.length, b.length);
  let m = 0;
  a.forEach((r, i) => {
    const s = b[i]!;
    m = Math.max(m, Math.abs(r.score - s.score), Math.abs(r.zYes - s.zYes), Math.abs(r.zNo - s.zNo));
    m = Math.max(m, Math.abs(r.pYesFull - s.pYesFull), Math.abs(r.otherMass - s.otherMass));
  });
  return m;
}

/** Counts the model's prefix passes (and forwards every call). */
function counting(model: JudgeModel) {
  const counts = { prefix: 0, suffix: 0, whole: 0 };
  const wrapped: JudgeModel = {
    config: model.config,
    tokenizer: model.tokenizer,
    scoreLast(input, ids) {
      counts.whole++;
      return model.scoreLast(input, ids);
    },
    prefillPrefixes(input) {
      counts.prefix++;
      return model.prefillPrefixes!(input);
    },
    scoreLastAfterPrefix(input, prefix, rows, ids) {
      counts.suffix++;
      return model.scoreLastAfterPrefix!(input, prefix, rows, ids);
    },
  };
  return { wrapped, counts };
}

describe('planSharedPrefixes', () => {
  it('shares groups with a long enough common prefix, cuts big groups, keeps one token per row', () => {
    const enc = [
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 6, 7],
      [1, 2, 9],
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
      [8, 8, 8],
      [1, 2, 3, 4, 5, 6],
    ];
    const plan = planSharedPrefixes(enc, ['a', 'a', 'b', 'c', 'c', undefined, 'b'], {
      minShared: 2,
      maxBatchSize: 8,
    });
    assert.deepEqual(plan.whole, [5]);
    assert.deepEqual(
      plan.chunks.flatMap((c) => c.groups.map((g) => [g.rows, g.prefixLen])),
      [
        [[0, 1], 4],
        [[2, 6], 2],
        [[3, 4], 4], // identical prompts: the prefix stops one token short
      ],
    );
    const small = planSharedPrefixes(enc, ['a', 'a', 'a', 'a', 'a', 'a', 'a'], {
      minShared: 3,
      maxBatchSize: 3,
    });
    // Pieces of 3: [0,1,2] share only [1,2] (< 3) → whole; [3,4,5] share nothing; [6] is alone.
    assert.deepEqual(small.whole, [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(small.chunks, []);
  });
});

describe('shared-prefix judging (Qwen3-shaped random model, real ONNX Runtime)', () => {
  const model = qwen3Model();
  const twin = qwen3Model({ replicas: 2 });
  after(async () => {
    await model.close();
    await twin.close();
  });

  for (const template of ['chat', 'plain'] as const) {
    it(`a mixed batch scores as the unshared path within 1e-5 (${template} template)`, async () => {
      const items = mixedItems();
      const { wrapped, counts } = counting(model);
      const unshared = await judge(model, items, { template, sharedPrefix: false, maxBatchSize: 5 });
      const shared = await judge(wrapped, items, { template, maxBatchSize: 5 });
      assert.ok(maxDiff(shared, unshared) <= TOLERANCE, `max |difference| ${maxDiff(shared, unshared)}`);
      // big (7 → pieces of 5 and 2), g5, same: shared; alone, mixed and the ungrouped items whole.
      assert.ok(counts.prefix >= 1 && counts.suffix >= 2, JSON.stringify(counts));
      assert.ok(counts.whole >= 1);
    });
  }

  it('with 2 session replicas the suffix rows run as sub-batches with the same scores', async () => {
    const items = mixedItems();
    const a = await judge(model, items, { sharedPrefix: false });
    const b = await judge(twin, items);
    assert.ok(maxDiff(a, b) <= TOLERANCE, `max |difference| ${maxDiff(a, b)}`);
  });

  it('a model without prefix passes, and sharedPrefix: false, judge every prompt whole', async () => {
    const items = mixedItems();
    const plain: JudgeModel = {
      config: model.config,
      tokenizer: model.tokenizer,
      scoreLast: (i, ids) => model.scoreLast(i, ids),
    };
    assert.equal(hasSharedPrefixJudging(plain), false);
    const { wrapped, counts } = counting(model);
    const off = await judge(wrapped, items, { sharedPrefix: false });
    assert.deepEqual(counts, { prefix: 0, suffix: 0, whole: 1 });
    assert.ok(maxDiff(await judge(plain, items), off) <= TOLERANCE);
  });

  it('checks its inputs: min_shared_prefix_tokens and the prefix rows', async () => {
    await assert.rejects(
      judge(model, mixedItems(), { minSharedPrefixTokens: 0 }),
      /min_shared_prefix_tokens must be an integer >= 1/,
    );
    const prefix = await model.prefillPrefixes!({
      batchSize: 1,
      seqLen: 2,
      inputIds: [5, 6],
      attentionMask: [1, 1],
      positionIds: [0, 1],
    });
    await assert.rejects(
      model.scoreLastAfterPrefix!(
        { batchSize: 1, seqLen: 1, inputIds: [7], attentionMask: [1, 1, 1], positionIds: [2] },
        prefix,
        [1],
        [9454, 2753],
      ),
      /prefix row 1 is outside \[0, 1\)/,
    );
  });
});

describe('shared-prefix judging falls back for a family whose judge graph takes no past (OPT)', () => {
  it('the OPT model offers no prefix passes, so judge() takes the whole-prompt path', async (t) => {
    let opt: ReturnType<typeof loadModel>;
    try {
      opt = loadModel(optTinyDir('opt-tiny-galactica'), {
        tokenizer: loadModelTokenizer(join(locateSharedDir(), 'tokenizers', 'qwen3')),
      });
    } catch (error) {
      t.skip(`opt-tiny fixture unavailable: ${(error as Error).message}`);
      return;
    }
    assert.equal(hasSharedPrefixJudging(opt), false);
    await opt.close();
  });
});
