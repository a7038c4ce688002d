import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commonV1, type judgeV1 } from '@verdict/proto';
import { type AskJudge, type RewardSettings, scoreGroup, scoreSample } from './score-sample.js';

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
        provenance: { judgeModelId: 'j', templateName: 'plain', templateHash: 'h', calibrationHash: '' },
      },
    };
  };
  return Object.assign(fn, { asked });
}

const settings = (vr: number, judge: number, extra: Partial<RewardSettings> = {}): RewardSettings => ({
  mix: { weights: { vr, judge, rerank: 0 }, judgeOnLabeled: true },
  extractionMode: 'strict',
  verifiableCheck: 'answer',
  abstainBand: 0,
  judgeTemplateName: '',
  judgeTimeoutMs: 30_000,
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

  it('answer-and-arithmetic: a right answer through a wrong step scores 0; the answer check alone scores it 1', async () => {
    const lucky =
      'She gets 5 more, so she has 7 + 5 = 14 apples.\nOne of 2 piles holds 14 / 2 = 6 apples.\n#### 6';
    const sound =
      'She gets 5 more, so she has 7 + 5 = 12 apples.\nOne of 2 piles holds 12 / 2 = 6 apples.\n#### 6';
    const vr = async (completion: string, check: RewardSettings['verifiableCheck']) =>
      (await scoreSample(labeled(completion, '6'), settings(1, 0, { verifiableCheck: check }), undefined))
        .components?.verifiable;
    assert.equal((await vr(lucky, 'answer'))?.value, 1);
    const strict = await vr(lucky, 'answer-and-arithmetic');
    assert.deepEqual([strict?.status, strict?.value], [OK, 0]);
    assert.match(strict?.message ?? '', /7 \+ 5 ≠ 14/);
    assert.equal((await vr(sound, 'answer-and-arithmetic'))?.value, 1);
    assert.equal((await vr(sound.replace('#### 6', '#### 7'), 'answer-and-arithmetic'))?.value, 0);
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

describe('scoreGroup (rerank term)', () => {
  const scoresById: Record<string, number> = { a: 0.9, b: 0.2, c: 0.5, d: 0.5 };
  const byId: AskJudge = async (item) => {
    const judge = judgeSaying(scoresById[item.id] ?? Number.NaN);
    return judge(item);
  };
  const unl = (id: string) => ({
    id,
    question: 'Q',
    completion: '#### 3',
    labeled: false,
    gold: () => undefined,
  });
  const rerankSettings = (vr: number, judge: number, rerank: number): RewardSettings => ({
    ...settings(0, 1),
    mix: { weights: { vr, judge, rerank }, judgeOnLabeled: true },
  });

  it('ranks the judge scores within the group and mixes μ/ρ (renormalised for unlabeled)', async () => {
    const results = await scoreGroup(['a', 'b', 'c', 'd'].map(unl), rerankSettings(0.5, 0.25, 0.25), byId);
    const expectedRank = [1, 0, 0.5, 0.5];
    results.forEach((r, i) => {
      const rank = expectedRank[i]!;
      const judge = scoresById['abcd'[i]!]!;
      assert.equal(r.status, OK);
      assert.equal(r.components?.rerank?.status, OK);
      assert.equal(r.components?.rerank?.value, rank);
      assert.ok(Math.abs(r.total - (0.5 * judge + 0.5 * rank)) < 1e-12);
      assert.deepEqual(r.effectiveWeights, { lambdaVr: 0, muJudge: 0.5, rhoRerank: 0.5 });
    });
  });

  it('a member whose judge failed is left out of the ranking; its rerank is unavailable', async () => {
    const flaky: AskJudge = async (item) =>
      item.id === 'b' ? { kind: 'error', message: 'judge down' } : byId(item);
    const [a, b, c] = await scoreGroup(['a', 'b', 'c'].map(unl), rerankSettings(0, 0.5, 0.5), flaky);
    assert.equal(a?.components?.rerank?.value, 1, 'a ranks above c only');
    assert.equal(c?.components?.rerank?.value, 0);
    assert.equal(b?.status, commonV1.RewardStatus.REWARD_STATUS_ERROR, 'masked by its judge term');
    assert.equal(b?.components?.rerank?.status, commonV1.RewardStatus.REWARD_STATUS_ABSTAIN);
    assert.match(b?.components?.rerank?.message ?? '', /unavailable: no judge score/);
  });

  it('ρ = 1 (μ = 0) still asks the judge once per sample but reports no judge term', async () => {
    const judge = judgeSaying(0.4);
    const [x, y] = await scoreGroup([unl('x'), unl('y')], rerankSettings(0, 0, 1), judge);
    assert.equal(judge.asked.length, 2);
    assert.equal(x?.components?.judge, undefined);
    assert.equal(x?.components?.judgeDetail?.score, 0.4, 'the judge output is still attached');
    assert.equal(x?.total, 0.5);
    assert.equal(y?.total, 0.5);
  });

  it('a group of one: rerank unavailable, weights renormalised (not 0, not masked)', async () => {
    const [only] = await scoreGroup([unl('a')], rerankSettings(0.4, 0.3, 0.3), byId);
    assert.equal(only?.status, OK);
    assert.equal(only?.total, 0.9);
    assert.deepEqual(only?.effectiveWeights, { lambdaVr: 0, muJudge: 1, rhoRerank: 0 });
    assert.match(only?.components?.rerank?.message ?? '', /unavailable: group has 1 member/);
    const alone = await scoreSample(unl('a'), rerankSettings(0, 0, 1), byId);
    assert.equal(alone.status, commonV1.RewardStatus.REWARD_STATUS_ERROR, 'ρ = 1 and no rank: masked');
    assert.match(alone.message, /rerank unavailable \(sample is not in a group\)/);
  });

  it('labeled without judgeOnLabeled: rerank is not planned, the judge is not asked', async () => {
    const judge = judgeSaying(0.4);
    const [r] = await scoreGroup(
      [labeled('#### 4', '4')],
      { ...settings(1, 0), mix: { weights: { vr: 0.5, judge: 0, rerank: 0.5 }, judgeOnLabeled: false } },
      judge,
    );
    assert.equal(judge.asked.length, 0);
    assert.equal(r?.total, 1);
    assert.equal(r?.components?.rerank, undefined);
  });
});

describe('the judge group key', () => {
  it("a sample's group id goes to the judge as its group_key (shared-prefix judging); none without one", async () => {
    const judge = judgeSaying(0.7);
    await scoreSample({ ...labeled('#### 4', '4'), groupId: 'grp-7' }, settings(0, 1), judge);
    await scoreSample({ ...labeled('#### 4', '4'), id: 'r2' }, settings(0, 1), judge);
    assert.equal(judge.asked[0]?.groupKey, 'grp-7');
    assert.equal(judge.asked[1]?.groupKey, undefined);
  });
});
