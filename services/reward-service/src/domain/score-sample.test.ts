import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commonV1, type judgeV1 } from '@verdict/proto';
import { type AskJudge, type RewardSettings, scoreSample } from './score-sample.js';

const OK = commonV1.RewardStatus.REWARD_STATUS_OK;

function judgeSaying(score: number): AskJudge & { asked: judgeV1.JudgeItem[] } {
  const asked: judgeV1.JudgeItem[] = [];
  const fn = async (item: judgeV1.JudgeItem) => {
    asked.push(item);
    return {
      kind: 'result' as const,
      result: {
        id: item.id,
        status: 1,
        message: '',
        score,
        pYesFull: score / 2,
        otherMass: 0.5,
        yesTokenId: 5,
        noTokenId: 6,
        yesLogit: 1,
        noLogit: 0,
        provenance: { judgeModelId: 'j', templateName: 'plain', templateHash: 'h' },
      },
    };
  };
  return Object.assign(fn, { asked });
}

const settings = (vr: number, judge: number, extra: Partial<RewardSettings> = {}): RewardSettings => ({
  mix: { weights: { vr, judge, rerank: 0 }, judgeOnLabeled: true },
  extractionMode: 'strict',
  abstainBand: 0,
  judgeTemplateName: '',
  ...extra,
});

const labeled = (completion: string, gold: string | undefined) => ({
  id: 'r1',
  question: 'How many?',
  completion,
  labeled: true,
  gold: () => gold,
});

describe('scoreSample', () => {
  it('labeled: VR through the answer checker plus the judge, mixed λ/μ', async () => {
    const r = await scoreSample(
      labeled('2 and 2 make 4.\n#### 4', '4'),
      settings(0.5, 0.5),
      judgeSaying(0.8),
    );
    assert.equal(r.status, OK);
    assert.ok(Math.abs(r.total - 0.9) < 1e-12);
    assert.equal(r.components?.verifiable?.value, 1);
    assert.equal(r.components?.judge?.value, 0.8);
    assert.equal(r.components?.extractedAnswer, '4');
    assert.equal(r.provenance?.judgeModelId, 'j');
    const wrong = await scoreSample(labeled('#### 5', '4'), settings(0.5, 0.5), judgeSaying(0.8));
    assert.ok(Math.abs(wrong.total - 0.4) < 1e-12);
  });

  it('unlabeled: only the judge, weights renormalised', async () => {
    const r = await scoreSample(
      { id: 'u', question: 'Q', completion: '#### 3', labeled: false, gold: () => '3' },
      settings(0.5, 0.5),
      judgeSaying(0.3),
    );
    assert.equal(r.status, OK);
    assert.equal(r.total, 0.3);
    assert.equal(r.components?.verifiable, undefined);
    assert.deepEqual(r.effectiveWeights, { lambdaVr: 0, muJudge: 1, rhoRerank: 0 });
  });

  it('λ = 0 never reads the gold answer', async () => {
    const sample = {
      ...labeled('#### 4', '4'),
      gold: () => {
        throw new Error('gold was read');
      },
    };
    const r = await scoreSample(sample, settings(0, 1), judgeSaying(0.7));
    assert.equal(r.status, OK);
    assert.equal(r.total, 0.7);
  });

  it('λ = 1 without judgeOnLabeled never calls the judge', async () => {
    const judge = judgeSaying(0.7);
    const r = await scoreSample(
      labeled('#### 4', '4'),
      { ...settings(1, 0), mix: { weights: { vr: 1, judge: 0, rerank: 0 }, judgeOnLabeled: false } },
      judge,
    );
    assert.equal(r.total, 1);
    assert.equal(judge.asked.length, 0);
    assert.equal(r.provenance, undefined);
  });

  it('a judge timeout or error masks the sample with a typed status, never a silent 0', async () => {
    const timeout = await scoreSample(labeled('#### 4', '4'), settings(0.5, 0.5), async () => ({
      kind: 'timeout',
      message: 'judge did not answer within 50 ms',
    }));
    assert.equal(timeout.status, commonV1.RewardStatus.REWARD_STATUS_TIMEOUT);
    assert.match(timeout.message, /judge: TIMEOUT/);
    assert.equal(timeout.components?.verifiable?.status, OK, 'the VR term is still reported');
    const error = await scoreSample(labeled('#### 4', '4'), settings(0.5, 0.5), undefined);
    assert.equal(error.status, commonV1.RewardStatus.REWARD_STATUS_ERROR);
    const noGold = await scoreSample(labeled('#### 4', undefined), settings(1, 0), undefined);
    assert.equal(noGold.status, commonV1.RewardStatus.REWARD_STATUS_ERROR);
    assert.match(noGold.message, /without a gold answer/);
  });

  it('judge scores inside the abstain band are ABSTAIN', async () => {
    const r = await scoreSample(
      labeled('#### 4', '4'),
      settings(0.5, 0.5, { abstainBand: 0.1 }),
      judgeSaying(0.55),
    );
    assert.equal(r.status, commonV1.RewardStatus.REWARD_STATUS_ABSTAIN);
  });
});
