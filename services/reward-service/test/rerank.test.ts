import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { commonV1, judgeV1, rewardV1, rolloutV1 } from '@verdict/proto';
import { connectNats, createGrpcClient, isVerdictError, type Messaging } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import type { RewardServiceApp } from '../src/app.js';
import { ROLLOUTS_STREAM } from '../src/streams.js';
import {
  collectScored,
  createTestRewardApp,
  generated,
  type ScoredCollector,
  settledRewardConsumer,
  startJudgeServerProcess,
  waitFor,
} from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

const ST = commonV1.RewardStatus;
const QUESTION = 'Tom has 2 apples and buys 2 more. How many apples does he have?';
const COMPLETIONS = [' 2 and 2 make 4. #### 4', ' It is 5. #### 5', ' apples apples', ' #### 22 because 2 2'];

/** The definition, written out independently of the service: (lower + 0.5·equal others) / (n − 1). */
function expectedRanks(scores: number[]): number[] {
  return scores.map(
    (s) =>
      (scores.filter((o) => o < s).length + 0.5 * (scores.filter((o) => o === s).length - 1)) /
      (scores.length - 1),
  );
}

function groupMember(id: string, groupId: string, index: number, size: number, completion: string) {
  const g = generated(id, { labeled: false, completion });
  return {
    ...g,
    request: { ...g.request!, groupId, groupIndex: index, groupSize: size, question: QUESTION },
  };
}

describe('rerank term (ρ > 0) with a real judge-server and nats-server', () => {
  const fixture = writeToyJudgeModel();
  let nats: NatsServerHandle;
  let judge: { address: string; child: ChildProcess };
  let m: Messaging;
  let app: RewardServiceApp | undefined;
  let judgeScores: number[] = [];
  let collector: ScoredCollector | undefined;
  let scored: Map<string, rolloutV1.RolloutScored[]>;

  const startApp = async (env: Record<string, string>) => {
    app = createTestRewardApp({ NATS_URL: nats.url, JUDGE_ADDRESS: judge.address, ...env });
    return (await app.start()).address;
  };
  const publishGenerated = (g: rolloutV1.RolloutGenerated) =>
    m.publish('verdict.rollout.generated', rolloutV1.RolloutGenerated.encode(g).finish(), {
      msgId: `${g.request!.rolloutId}:generated`,
    });

  before(async () => {
    [nats, judge] = await Promise.all([startNatsServer(), startJudgeServerProcess(fixture.dir)]);
    m = await connectNats({ servers: nats.url, name: 'test' });
    collector = await collectScored(m);
    scored = collector.scored;
    const judgeClient = createGrpcClient(judgeV1.JudgeServiceClient, judge.address);
    const direct = await judgeClient.unary('judgeBatch', {
      items: COMPLETIONS.map((solution, i) => ({
        id: `c${i}`,
        question: QUESTION,
        solution,
        templateName: '',
      })),
    });
    judgeClient.close();
    judgeScores = direct.results.map((r) => r.score);
    // Four distinct scores, so the expected ranks are a real permutation (not all ties at 0.5).
    assert.equal(
      new Set(judgeScores).size,
      4,
      `the toy judge must tell the completions apart: ${judgeScores}`,
    );
  });

  after(async () => {
    await app?.stop();
    await collector?.stop();
    await m?.close();
    judge?.child.kill('SIGTERM');
    await nats?.stop();
    fixture.cleanup();
  });

  it('a group of 4 on the stream: rerank = rank of the judge score, total = μ·judge + ρ·rank', async () => {
    await startApp({ REWARD_LAMBDA_VR: '0.5', REWARD_MU_JUDGE: '0.25', REWARD_RHO_RERANK: '0.25' });
    const ids = COMPLETIONS.map((_, i) => `full.${i}`);
    // Interleaved with a second group's first member, which must not disturb the first group.
    await publishGenerated(groupMember('other.0', 'g-other', 0, 2, COMPLETIONS[0]!));
    for (const [i, id] of ids.entries())
      await publishGenerated(groupMember(id, 'g-full', i, 4, COMPLETIONS[i]!));
    await publishGenerated(groupMember('other.1', 'g-other', 1, 2, COMPLETIONS[1]!));
    await waitFor(() => ids.every((id) => scored.has(id)) && scored.has('other.1'));
    // Ranked on the judge scores the service got (batched judge calls can differ from the
    // direct call in the last float bits, so those are compared with a tolerance).
    const seen = ids.map((id) => scored.get(id)![0]!.reward!.components!.judge!.value);
    const ranks = expectedRanks(seen);
    for (const [i, id] of ids.entries()) {
      const reward = scored.get(id)![0]!.reward!;
      assert.equal(reward.status, ST.REWARD_STATUS_OK, id);
      assert.ok(Math.abs(reward.components!.judge!.value - judgeScores[i]!) < 1e-6, `${id} judge`);
      assert.equal(reward.components?.rerank?.status, ST.REWARD_STATUS_OK);
      assert.ok(Math.abs(reward.components!.rerank!.value - ranks[i]!) < 1e-12, `${id} rerank`);
      // Unlabeled: λ drops out, μ and ρ renormalised to 0.5 / 0.5.
      assert.deepEqual(reward.effectiveWeights, { lambdaVr: 0, muJudge: 0.5, rhoRerank: 0.5 });
      assert.ok(Math.abs(reward.total - (0.5 * seen[i]! + 0.5 * ranks[i]!)) < 1e-12, `${id} total`);
    }
    const pair = expectedRanks(
      ['other.0', 'other.1'].map((id) => scored.get(id)![0]!.reward!.components!.judge!.value),
    );
    assert.ok(Math.abs(scored.get('other.0')![0]!.reward!.components!.rerank!.value - pair[0]!) < 1e-12);
    assert.ok(Math.abs(scored.get('other.1')![0]!.reward!.components!.rerank!.value - pair[1]!) < 1e-12);
  });

  it('an incomplete group (3 of 4): after the timeout, published with rerank unavailable, renormalised', async () => {
    await app?.stop();
    await startApp({
      REWARD_LAMBDA_VR: '0',
      REWARD_MU_JUDGE: '0.6',
      REWARD_RHO_RERANK: '0.4',
      REWARD_RERANK_GROUP_TIMEOUT: '1500ms',
    });
    const ids = [0, 1, 2].map((i) => `part.${i}`);
    for (const [i, id] of ids.entries())
      await publishGenerated(groupMember(id, 'g-part', i, 4, COMPLETIONS[i]!));
    await waitFor(() => ids.every((id) => scored.has(id)));
    for (const [i, id] of ids.entries()) {
      const reward = scored.get(id)![0]!.reward!;
      assert.equal(reward.status, ST.REWARD_STATUS_OK, 'not masked: the judge term alone carries the reward');
      assert.equal(reward.components?.rerank?.status, ST.REWARD_STATUS_ABSTAIN);
      assert.match(reward.components?.rerank?.message ?? '', /unavailable: group g-part incomplete .*3 of 4/);
      assert.deepEqual(reward.effectiveWeights, { lambdaVr: 0, muJudge: 1, rhoRerank: 0 });
      assert.equal(reward.total, reward.components?.judge?.value, 'total = judge score, not 0.6·judge');
      assert.ok(Math.abs(reward.total - judgeScores[i]!) < 1e-6);
    }
    await m.flush();
    const info = await settledRewardConsumer(m);
    assert.equal(info.num_ack_pending, 0, 'every held message was acked after its publish');
    assert.equal(info.num_pending, 0);
    assert.ok(
      (info.config.max_ack_pending ?? 0) >= 16 + 256,
      `max_ack_pending ${info.config.max_ack_pending}`,
    );
  });

  it('a stop while members are held naks them; after a restart the whole group is ranked', async () => {
    await app?.stop();
    await startApp({ REWARD_LAMBDA_VR: '0', REWARD_MU_JUDGE: '0.5', REWARD_RHO_RERANK: '0.5' });
    const ids = COMPLETIONS.map((_, i) => `restart.${i}`);
    for (const i of [0, 1, 2])
      await publishGenerated(groupMember(ids[i]!, 'g-restart', i, 4, COMPLETIONS[i]!));
    const pendingHeld = async () =>
      (await m.jetstreamManager.consumers.info(ROLLOUTS_STREAM.name, 'reward-service')).num_ack_pending;
    const until = Date.now() + 20_000;
    while ((await pendingHeld()) < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await pendingHeld(), 3, 'three members held unacked');
    await app?.stop();
    assert.ok(
      ids.every((id) => !scored.has(id)),
      'nothing published for the incomplete group',
    );
    await startApp({ REWARD_LAMBDA_VR: '0', REWARD_MU_JUDGE: '0.5', REWARD_RHO_RERANK: '0.5' });
    await publishGenerated(groupMember(ids[3]!, 'g-restart', 3, 4, COMPLETIONS[3]!));
    await waitFor(() => ids.every((id) => scored.has(id)));
    const seen = ids.map((id) => scored.get(id)![0]!.reward!.components!.judge!.value);
    const ranks = expectedRanks(seen);
    for (const [i, id] of ids.entries()) {
      assert.equal(scored.get(id)?.length, 1, `${id} published once`);
      assert.ok(Math.abs(scored.get(id)![0]!.reward!.components!.rerank!.value - ranks[i]!) < 1e-12);
    }
  });

  it('Score RPC ranks items sharing a group_id within the request; a missing group_id is INVALID_ARGUMENT', async () => {
    await app?.stop();
    const address = await startApp({
      REWARD_LAMBDA_VR: '0',
      REWARD_MU_JUDGE: '0.5',
      REWARD_RHO_RERANK: '0.5',
    });
    const client = createGrpcClient(rewardV1.RewardServiceClient, address, { defaultDeadlineMs: 20_000 });
    try {
      // Group A holds all four completions, group B the first two, interleaved in the request.
      const items = [
        ...COMPLETIONS.map((completion, i) => ({ id: `a${i}`, groupId: 'A', completion })),
        ...COMPLETIONS.slice(0, 2).map((completion, i) => ({ id: `b${i}`, groupId: 'B', completion })),
      ]
        .sort((x, y) => x.id.at(-1)!.localeCompare(y.id.at(-1)!))
        .map((it) => ({ ...it, question: QUESTION, labeled: false }));
      const reply = await client.unary('score', { items });
      assert.deepEqual(
        reply.items.map((i) => i.id),
        items.map((i) => i.id),
        'request order kept',
      );
      const judgeOf = (id: string) => reply.items.find((i) => i.id === id)!.result!.components!.judge!.value;
      const rankA = expectedRanks([0, 1, 2, 3].map((i) => judgeOf(`a${i}`)));
      const rankB = expectedRanks([0, 1].map((i) => judgeOf(`b${i}`)));
      for (const item of reply.items) {
        const index = Number(item.id.slice(1));
        const want = item.id.startsWith('a') ? rankA[index]! : rankB[index]!;
        assert.equal(item.result?.status, ST.REWARD_STATUS_OK);
        assert.ok(Math.abs(judgeOf(item.id) - judgeScores[index]!) < 1e-6);
        assert.ok(Math.abs(item.result!.components!.rerank!.value - want) < 1e-12, item.id);
        assert.ok(Math.abs(item.result!.total - (0.5 * judgeOf(item.id) + 0.5 * want)) < 1e-12);
      }
      await assert.rejects(
        client.unary('score', {
          items: [{ id: 'x', question: QUESTION, completion: '#### 4', labeled: false, groupId: '' }],
        }),
        (error: unknown) =>
          isVerdictError(error) && error.code === 'INVALID_ARGUMENT' && error.field === 'items[0].group_id',
      );
    } finally {
      client.close();
    }
  });
});
