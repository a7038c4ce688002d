import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewardV1 } from '@verdict/proto';
import { isVerdictError } from '@verdict/runtime';
import { rewardSettingsFor } from './reward-settings.js';
import type { RewardSettings } from './score-sample.js';

const defaults: RewardSettings = {
  mix: { weights: { vr: 0.5, judge: 0.5, rerank: 0 }, judgeOnLabeled: true },
  extractionMode: 'strict',
  verifiableCheck: 'answer',
  abstainBand: 0.1,
  judgeTemplateName: 'plain',
  judgeTimeoutMs: 30_000,
};

test('no config: the service defaults; a config: its weights, routing, band, template and deadline', () => {
  assert.equal(rewardSettingsFor(undefined, defaults), defaults);
  const s = rewardSettingsFor(
    {
      weights: { lambdaVr: 0.8, muJudge: 0.2, rhoRerank: 0 },
      labeled: { verifiable: true, judge: false, rerank: false },
      judgeTemplateName: 'strict',
      judgeTimeout: { seconds: 5n, nanos: 500_000_000 },
      judgeAbstainBand: 0,
      verifiableCheck: rewardV1.VerifiableCheck.VERIFIABLE_CHECK_ANSWER_AND_ARITHMETIC,
    },
    defaults,
  );
  assert.deepEqual(s.mix, { weights: { vr: 0.8, judge: 0.2, rerank: 0 }, judgeOnLabeled: false });
  assert.deepEqual([s.judgeTemplateName, s.judgeTimeoutMs, s.abstainBand], ['strict', 5500, 0]);
  assert.equal(s.verifiableCheck, 'answer-and-arithmetic');
});

test('unset weights, template, deadline and verifiable check fall back to the defaults', () => {
  const s = rewardSettingsFor({ judgeTemplateName: '', judgeAbstainBand: 0.2, verifiableCheck: 0 }, defaults);
  assert.deepEqual(s.mix, defaults.mix);
  assert.deepEqual([s.judgeTemplateName, s.judgeTimeoutMs, s.abstainBand], ['plain', 30_000, 0.2]);
  assert.equal(s.verifiableCheck, defaults.verifiableCheck);
});

test('bad weights or band: INVALID_ARGUMENT naming the field under the given prefix', () => {
  const bad = (config: Parameters<typeof rewardSettingsFor>[0], field: string) =>
    assert.throws(
      () => rewardSettingsFor(config, defaults, 'request.reward'),
      (e: unknown) => isVerdictError(e) && e.code === 'INVALID_ARGUMENT' && e.field === field,
    );
  bad(
    {
      weights: { lambdaVr: 0.7, muJudge: 0.7, rhoRerank: 0 },
      judgeTemplateName: '',
      judgeAbstainBand: 0,
      verifiableCheck: 0,
    },
    'request.reward.weights',
  );
  bad(
    { judgeTemplateName: '', judgeAbstainBand: 0, verifiableCheck: 7 as rewardV1.VerifiableCheck },
    'request.reward.verifiable_check',
  );
  bad(
    { judgeTemplateName: '', judgeAbstainBand: 0.7, verifiableCheck: 0 },
    'request.reward.judge_abstain_band',
  );
});
