import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRewardScorer } from './reward-scorer.js';
import type { RewardMixConfig } from './reward-types.js';

interface Ctx {
  readonly answer: string;
}

describe('createRewardScorer', () => {
  it('with λ = 0 the gold answer is never read and the VR scorer never called', async () => {
    const config: RewardMixConfig = { weights: { vr: 0, judge: 1, rerank: 0 }, judgeOnLabeled: true };
    let vrCalls = 0;
    const scorer = createRewardScorer<string, Ctx>(config, {
      vr: () => {
        vrCalls++;
        return { status: 'OK', value: 1 };
      },
      judge: (ctx) => ({ status: 'OK', value: ctx.answer === '42' ? 0.9 : 0.1 }),
    });
    const sample = {
      source: 'labeled' as const,
      context: { answer: '42' },
      get gold(): string {
        throw new Error('gold read with λ = 0');
      },
    };
    const r = await scorer.score(sample);
    assert.equal(r.status, 'OK');
    assert.equal(r.reward, 0.9);
    assert.equal(vrCalls, 0);
    assert.deepEqual(Object.keys(r.components), ['judge']);
  });

  it('labeled samples pass gold to the VR scorer; unlabeled get judge only', async () => {
    const config: RewardMixConfig = { weights: { vr: 0.5, judge: 0.5, rerank: 0 }, judgeOnLabeled: false };
    const scorer = createRewardScorer<string, Ctx>(config, {
      vr: (gold, ctx) => ({ status: 'OK', value: gold === ctx.answer ? 1 : 0 }),
      judge: () => ({ status: 'OK', value: 0.25 }),
    });
    const labeled = await scorer.score({ source: 'labeled', gold: '7', context: { answer: '7' } });
    assert.equal(labeled.reward, 1);
    assert.deepEqual(labeled.weights, { vr: 1 });
    const unlabeled = await scorer.score({ source: 'unlabeled', context: { answer: '7' } });
    assert.equal(unlabeled.reward, 0.25);
    assert.deepEqual(unlabeled.weights, { judge: 1 });
  });

  it('a throwing scorer yields a masked ERROR sample, and async TIMEOUT passes through', async () => {
    const config: RewardMixConfig = { weights: { vr: 0, judge: 0.5, rerank: 0.5 }, judgeOnLabeled: true };
    const scorer = createRewardScorer<never, Ctx>(config, {
      judge: async () => ({ status: 'TIMEOUT', detail: 'deadline' }),
      rerank: () => {
        throw new Error('boom');
      },
    });
    const r = await scorer.score({ source: 'unlabeled', context: { answer: '' } });
    assert.equal(r.masked, true);
    assert.equal(r.reward, null);
    assert.equal(r.status, 'ERROR');
    assert.match(JSON.stringify(r.components.rerank), /rerank scorer threw: boom/);
    assert.equal(r.components.judge?.status, 'TIMEOUT');
  });

  it('requires a scorer for every weighted term', () => {
    const config: RewardMixConfig = { weights: { vr: 0.5, judge: 0.5, rerank: 0 }, judgeOnLabeled: true };
    assert.throws(
      () => createRewardScorer(config, { judge: () => ({ status: 'ABSTAIN' }) }),
      /no scorer.*vr/,
    );
  });
});
