import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rewardsForAdvantages } from '../rewards/group-rewards.js';
import { mixRewardComponents } from '../rewards/reward-mix.js';
import type { RewardMixConfig } from '../rewards/reward-types.js';
import { computeGae } from './gae.js';
import { computeGroupAdvantages } from './grpo-advantages.js';
import { shapePpoTokenRewards } from './ppo-token-rewards.js';

describe('shapePpoTokenRewards', () => {
  it('puts −β·KL on every token and R on the last', () => {
    const r = shapePpoTokenRewards({ sequenceReward: 1, klPerToken: [0.5, 0.1, 0.2], klCoefficient: 0.1 });
    const expected = [-0.05, -0.01, 0.98];
    for (let t = 0; t < 3; t++)
      assert.ok(Math.abs((r[t] as number) - (expected[t] as number)) < 1e-15, `token ${t}`);
    assert.throws(
      () => shapePpoTokenRewards({ sequenceReward: 1, klPerToken: [], klCoefficient: 0 }),
      /at least one/,
    );
  });

  it('with β = 0, γ = λ = 1 and zero values every token advantage is the sequence reward', () => {
    const rewards = shapePpoTokenRewards({ sequenceReward: 0.7, klPerToken: [0.3, 0.3], klCoefficient: 0 });
    const { advantages } = computeGae({ rewards, values: [0, 0], terminal: true }, { gamma: 1, lambda: 1 });
    assert.deepEqual([...advantages], [0.7, 0.7]);
  });
});

describe('rewardsForAdvantages', () => {
  it('masked samples become null and drop out of the group statistics', () => {
    const config: RewardMixConfig = { weights: { vr: 0, judge: 1, rerank: 0 }, judgeOnLabeled: true };
    const mixed = [
      mixRewardComponents(config, 'unlabeled', { judge: { status: 'OK', value: 1 } }),
      mixRewardComponents(config, 'unlabeled', { judge: { status: 'TIMEOUT' } }),
      mixRewardComponents(config, 'unlabeled', { judge: { status: 'OK', value: 0 } }),
    ];
    const rewards = rewardsForAdvantages(mixed);
    assert.deepEqual(rewards, [1, null, 0]);
    const g = computeGroupAdvantages(rewards, { scaleByStd: false });
    assert.deepEqual(g.advantages, [0.5, null, -0.5]);
  });
});
