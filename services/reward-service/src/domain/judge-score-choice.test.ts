import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commonV1, type judgeV1 } from '@verdict/proto';
import { loadRewardServiceConfig } from '../config.js';
import { type AskJudge, type RewardSettings, scoreGroup, scoreSample } from './score-sample.js';

const OK = commonV1.RewardStatus.REWARD_STATUS_OK;
const ERROR = commonV1.RewardStatus.REWARD_STATUS_ERROR;

/** A judge answering a raw score and, when given, a calibrated one (as a calibrated judge-server does). */
function judgeSaying(raw: number, calibrated: number | undefined): AskJudge {
  return async (item: judgeV1.JudgeItem) => ({
    kind: 'result' as const,
    result: {
      id: item.id,
      status: 1,
      message: '',
      score: raw,
      ...(calibrated !== undefined ? { calibratedScore: calibrated } : {}),
      pYesFull: raw,
      otherMass: 0,
      yesTokenId: 5,
      noTokenId: 6,
      yesLogit: 1,
      noLogit: 0,
      provenance: {
        judgeModelId: 'j',
        templateName: 'plain',
        templateHash: 'h',
        calibrationHash: calibrated !== undefined ? 'c'.repeat(64) : '',
      },
    },
  });
}

const settings = (extra: Partial<RewardSettings> = {}): RewardSettings => ({
  mix: { weights: { vr: 0, judge: 1, rerank: 0 }, judgeOnLabeled: true },
  extractionMode: 'strict',
  verifiableCheck: 'answer',
  abstainBand: 0,
  judgeTemplateName: '',
  judgeTimeoutMs: 30_000,
  ...extra,
});

const sample = (id = 'r1') => ({
  id,
  question: 'How many?',
  completion: '#### 4',
  labeled: false,
  gold: () => undefined,
});

describe('REWARD_JUDGE_SCORE', () => {
  it('defaults to raw: the config and absent settings both use the raw score', async () => {
    const defaults = loadRewardServiceConfig({ NATS_URL: 'nats://127.0.0.1:4222', JUDGE_ADDRESS: 'x:1' });
    assert.equal(defaults.judgeScore, 'raw');
    const r = await scoreSample(sample(), settings(), judgeSaying(0.9, 0.6));
    assert.equal(r.status, OK);
    assert.equal(r.components?.judge?.value, 0.9);
    assert.equal(r.total, 0.9);
  });

  it('calibrated: the judge term is the calibrated score, provenance names the calibration', async () => {
    const r = await scoreSample(sample(), settings({ judgeScore: 'calibrated' }), judgeSaying(0.9, 0.6));
    assert.equal(r.status, OK);
    assert.equal(r.components?.judge?.value, 0.6);
    assert.equal(r.total, 0.6);
    // The judge detail keeps both numbers for whoever reads the scored rollout.
    assert.equal(r.components?.judgeDetail?.score, 0.9);
    assert.equal(r.provenance?.calibrationHash, 'c'.repeat(64));
  });

  it('calibrated: the abstain band applies to the calibrated score', async () => {
    const r = await scoreSample(
      sample(),
      settings({ judgeScore: 'calibrated', abstainBand: 0.15 }),
      judgeSaying(0.95, 0.55),
    );
    assert.equal(r.status, commonV1.RewardStatus.REWARD_STATUS_ABSTAIN);
    assert.match(r.components?.judge?.message ?? '', /0\.55 within 0\.5 ± 0\.15/);
  });

  it('calibrated without a calibrated_score is an ERROR naming the variable, not a raw fall-back', async () => {
    const r = await scoreSample(
      sample(),
      settings({ judgeScore: 'calibrated' }),
      judgeSaying(0.9, undefined),
    );
    assert.equal(r.status, ERROR);
    assert.match(r.components?.judge?.message ?? '', /REWARD_JUDGE_SCORE=calibrated .*no calibrated_score/);
  });

  it('calibrated: the rerank term ranks the calibrated scores', async () => {
    // Raw and calibrated order disagree here only to show which one is ranked.
    const scores = [
      [0.9, 0.2],
      [0.1, 0.8],
    ] as const;
    let i = 0;
    const ask: AskJudge = async (item) => {
      const [raw, cal] = scores[i++]!;
      return judgeSaying(raw, cal)(item);
    };
    const rerankOnly = settings({
      judgeScore: 'calibrated',
      mix: { weights: { vr: 0, judge: 0, rerank: 1 }, judgeOnLabeled: true },
    });
    const [a, b] = await scoreGroup([sample('a'), sample('b')], rerankOnly, ask);
    assert.equal(a!.components?.rerank?.value, 0);
    assert.equal(b!.components?.rerank?.value, 1);
  });

  it('rejects a value other than raw or calibrated, naming the variable', () => {
    assert.throws(
      () =>
        loadRewardServiceConfig({
          NATS_URL: 'nats://127.0.0.1:4222',
          JUDGE_ADDRESS: 'x:1',
          REWARD_JUDGE_SCORE: 'platt',
        }),
      /REWARD_JUDGE_SCORE/,
    );
  });
});
