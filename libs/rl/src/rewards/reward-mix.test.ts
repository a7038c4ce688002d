import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mixRewardComponents, planRewardTerms, validateRewardMixConfig } from './reward-mix.js';
import type { RewardMixConfig } from './reward-types.js';

const mixed: RewardMixConfig = { weights: { vr: 0.5, judge: 0.3, rerank: 0.2 }, judgeOnLabeled: true };

describe('validateRewardMixConfig', () => {
  it('accepts decimal weights summing to 1 and reports every problem', () => {
    assert.deepEqual(
      validateRewardMixConfig({ weights: { vr: 0.1, judge: 0.2, rerank: 0.7 }, judgeOnLabeled: false }),
      [],
    );
    assert.match(
      validateRewardMixConfig({ weights: { vr: 0.5, judge: 0.4, rerank: 0 }, judgeOnLabeled: true }).join(),
      /sum to 1/,
    );
    const problems = validateRewardMixConfig({
      weights: { vr: -1, judge: Number.NaN, rerank: 2 },
      judgeOnLabeled: true,
    });
    assert.equal(problems.length, 2);
  });
});

describe('planRewardTerms', () => {
  it('labeled questions get VR and, optionally, the judge terms', () => {
    assert.deepEqual(planRewardTerms(mixed, 'labeled'), [
      { term: 'vr', weight: 0.5 },
      { term: 'judge', weight: 0.3 },
      { term: 'rerank', weight: 0.2 },
    ]);
    assert.deepEqual(planRewardTerms({ ...mixed, judgeOnLabeled: false }, 'labeled'), [
      { term: 'vr', weight: 1 },
    ]);
  });

  it('unlabeled questions get only judge terms, renormalised', () => {
    const plan = planRewardTerms(mixed, 'unlabeled');
    assert.deepEqual(
      plan.map((p) => p.term),
      ['judge', 'rerank'],
    );
    assert.ok(Math.abs((plan[0]?.weight ?? 0) - 0.6) < 1e-12);
    assert.ok(Math.abs((plan[1]?.weight ?? 0) - 0.4) < 1e-12);
  });

  it('λ = 0 never plans VR; no available term is a config error', () => {
    const judgeOnly: RewardMixConfig = { weights: { vr: 0, judge: 1, rerank: 0 }, judgeOnLabeled: true };
    assert.deepEqual(planRewardTerms(judgeOnly, 'labeled'), [{ term: 'judge', weight: 1 }]);
    const rlvr: RewardMixConfig = { weights: { vr: 1, judge: 0, rerank: 0 }, judgeOnLabeled: true };
    assert.throws(() => planRewardTerms(rlvr, 'unlabeled'), /no reward term available for unlabeled/);
    assert.throws(
      () => planRewardTerms({ ...judgeOnly, judgeOnLabeled: false }, 'labeled'),
      /judgeOnLabeled=false/,
    );
  });
});

describe('mixRewardComponents', () => {
  it('mixes with the configured weights and reports them', () => {
    const r = mixRewardComponents(mixed, 'labeled', {
      vr: { status: 'OK', value: 1 },
      judge: { status: 'OK', value: 0.8 },
      rerank: { status: 'OK', value: 0.5 },
    });
    assert.equal(r.status, 'OK');
    assert.equal(r.masked, false);
    assert.ok(Math.abs((r.reward ?? Number.NaN) - (0.5 + 0.24 + 0.1)) < 1e-12);
    assert.deepEqual(r.weights, { vr: 0.5, judge: 0.3, rerank: 0.2 });
  });

  it('unlabeled reward renormalises over judge terms', () => {
    const r = mixRewardComponents(mixed, 'unlabeled', {
      judge: { status: 'OK', value: 1 },
      rerank: { status: 'OK', value: 0 },
    });
    assert.ok(Math.abs((r.reward ?? Number.NaN) - 0.6) < 1e-12);
  });

  it('a component that could not be computed masks the sample with its status, never a 0', () => {
    const r = mixRewardComponents(mixed, 'labeled', {
      vr: { status: 'OK', value: 1 },
      judge: { status: 'TIMEOUT', detail: 'judge 30000ms' },
      rerank: { status: 'ABSTAIN' },
    });
    assert.equal(r.masked, true);
    assert.equal(r.reward, null);
    assert.equal(r.status, 'TIMEOUT');
    assert.match(r.detail ?? '', /judge: TIMEOUT \(judge 30000ms\)/);
    const err = mixRewardComponents(mixed, 'unlabeled', {
      judge: { status: 'ABSTAIN' },
      rerank: { status: 'ERROR' },
    });
    assert.equal(err.status, 'ERROR');
  });

  it('a non-finite OK value becomes an ERROR, masked', () => {
    const r = mixRewardComponents({ ...mixed, judgeOnLabeled: false }, 'labeled', {
      vr: { status: 'OK', value: Number.NaN },
    });
    assert.equal(r.status, 'ERROR');
    assert.equal(r.reward, null);
  });

  it('rejects a VR value when λ = 0 and a missing planned component', () => {
    const judgeOnly: RewardMixConfig = { weights: { vr: 0, judge: 1, rerank: 0 }, judgeOnLabeled: true };
    assert.throws(
      () =>
        mixRewardComponents(judgeOnly, 'labeled', {
          vr: { status: 'OK', value: 1 },
          judge: { status: 'OK', value: 1 },
        }),
      /'vr' is not planned/,
    );
    assert.throws(
      () => mixRewardComponents(mixed, 'labeled', { vr: { status: 'OK', value: 1 } }),
      /missing planned component 'judge'/,
    );
  });

  it('an unavailable term is left out and the others renormalised (not masked, not 0)', () => {
    const r = mixRewardComponents(
      mixed,
      'labeled',
      { vr: { status: 'OK', value: 1 }, judge: { status: 'OK', value: 0.4 } },
      { unavailable: { rerank: 'group of 1' } },
    );
    assert.equal(r.status, 'OK');
    assert.equal(r.masked, false);
    assert.equal(r.components.rerank, undefined);
    assert.equal(r.weights.rerank, undefined);
    assert.ok(Math.abs((r.weights.vr ?? 0) - 0.5 / 0.8) < 1e-12);
    assert.ok(Math.abs((r.weights.judge ?? 0) - 0.3 / 0.8) < 1e-12);
    assert.ok(Math.abs((r.reward ?? Number.NaN) - (0.625 + 0.375 * 0.4)) < 1e-12);
    const unl = mixRewardComponents(
      mixed,
      'unlabeled',
      { judge: { status: 'OK', value: 0.25 } },
      { unavailable: { rerank: 'timeout' } },
    );
    assert.deepEqual(unl.weights, { judge: 1 });
    assert.equal(unl.reward, 0.25);
  });

  it('a failed term still masks when another term is unavailable', () => {
    const r = mixRewardComponents(
      mixed,
      'unlabeled',
      { judge: { status: 'ERROR', detail: 'down' } },
      { unavailable: { rerank: 'judge call failed' } },
    );
    assert.equal(r.masked, true);
    assert.equal(r.status, 'ERROR');
    assert.match(r.detail ?? '', /judge: ERROR \(down\)/);
  });

  it('every planned term unavailable → masked ERROR naming the reasons', () => {
    const rerankOnly: RewardMixConfig = { weights: { vr: 0, judge: 0, rerank: 1 }, judgeOnLabeled: true };
    const r = mixRewardComponents(rerankOnly, 'unlabeled', {}, { unavailable: { rerank: 'group of 1' } });
    assert.equal(r.masked, true);
    assert.equal(r.reward, null);
    assert.equal(r.status, 'ERROR');
    assert.match(r.detail ?? '', /rerank unavailable \(group of 1\)/);
  });

  it('rejects a component that is also declared unavailable', () => {
    assert.throws(
      () =>
        mixRewardComponents(
          mixed,
          'unlabeled',
          { judge: { status: 'OK', value: 1 }, rerank: { status: 'OK', value: 1 } },
          { unavailable: { rerank: 'x' } },
        ),
      /both given and declared unavailable/,
    );
  });
});
