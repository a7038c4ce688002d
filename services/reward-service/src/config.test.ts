import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRewardServiceConfig } from './config.js';

const base = { NATS_URL: 'nats://127.0.0.1:4222', JUDGE_ADDRESS: '127.0.0.1:50052' };

describe('loadRewardServiceConfig: rerank', () => {
  it('accepts ρ > 0 with λ + μ + ρ = 1, with the group timeout and held limit', () => {
    const c = loadRewardServiceConfig({
      ...base,
      REWARD_LAMBDA_VR: '0.2',
      REWARD_MU_JUDGE: '0.5',
      REWARD_RHO_RERANK: '0.3',
      REWARD_RERANK_GROUP_TIMEOUT: '45s',
      REWARD_RERANK_MAX_HELD: '64',
    });
    assert.equal(c.rhoRerank, 0.3);
    assert.equal(c.rerankGroupTimeoutMs, 45_000);
    assert.equal(c.rerankMaxHeld, 64);
    const d = loadRewardServiceConfig(base);
    assert.equal(d.rhoRerank, 0);
    assert.equal(d.rerankGroupTimeoutMs, 30_000);
  });

  it('rejects weights that do not sum to 1 and ρ > 0 without a judge, all at once', () => {
    assert.throws(
      () =>
        loadRewardServiceConfig({
          NATS_URL: base.NATS_URL,
          REWARD_LAMBDA_VR: '0.5',
          REWARD_MU_JUDGE: '0',
          REWARD_RHO_RERANK: '0.6',
        }),
      (error: Error) =>
        /must be 1 \(got 1\.1\)/.test(error.message) &&
        /JUDGE_ADDRESS is not set: required when REWARD_MU_JUDGE or REWARD_RHO_RERANK > 0/.test(
          error.message,
        ),
    );
  });
});
