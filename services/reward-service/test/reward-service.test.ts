import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { commonV1, judgeV1, rewardV1, rolloutV1 } from '@verdict/proto';
import { connectNats, createGrpcClient, isVerdictError, type Messaging } from '@verdict/runtime';
import { findFreePort, type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import type { RewardServiceApp } from '../src/app.js';
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
describe('reward-service with a real judge-server and nats-server', () => {
  const fixture = writeToyJudgeModel();
  let nats: NatsServerHandle;
  let judge: { address: string; child: ChildProcess };
  let m: Messaging;
  let app: RewardServiceApp | undefined;
  let collector: ScoredCollector | undefined;
  let scored: Map<string, rolloutV1.RolloutScored[]>;
  const published: Array<{ id: string; duplicate: boolean }> = [];

  const startApp = async (env: Record<string, string>) => {
    const a = createTestRewardApp(
      { NATS_URL: nats.url, ...env },
      { onScored: (id, _reward, duplicate) => published.push({ id, duplicate }) },
    );
    const { address } = await a.start();
    app = a;
    return address;
  };
  const stopApp = async () => {
    const a = app;
    app = undefined;
    await a?.stop();
  };
  const publishGenerated = (g: rolloutV1.RolloutGenerated, msgId: string) =>
    m.publish('verdict.rollout.generated', rolloutV1.RolloutGenerated.encode(g).finish(), { msgId });

  before(async () => {
    [nats, judge] = await Promise.all([startNatsServer(), startJudgeServerProcess(fixture.dir)]);
    m = await connectNats({ servers: nats.url, name: 'test' });
    collector = await collectScored(m);
    scored = collector.scored;
  });

  after(async () => {
    await app?.stop();
    await collector?.stop();
    await m?.close();
    judge?.child.kill('SIGTERM');
    await nats?.stop();
    fixture.cleanup();
  });

  it('scores labeled rollouts with VR + judge and unlabeled ones with the judge only', async () => {
    await startApp({ JUDGE_ADDRESS: judge.address, REWARD_LAMBDA_VR: '0.5', REWARD_MU_JUDGE: '0.5' });
    const right = generated('lab-1', { labeled: true, gold: '4', completion: ' 2 and 2 make 4. #### 4' });
    const unlabeled = generated('unl-1', { labeled: false, completion: ' 2 and 2 make 4. #### 4' });
    await publishGenerated(right, 'lab-1:generated');
    await publishGenerated(unlabeled, 'unl-1:generated');
    await waitFor(() => scored.has('lab-1') && scored.has('unl-1'));

    const judgeClient = createGrpcClient(judgeV1.JudgeServiceClient, judge.address);
    const direct = await judgeClient.unary('judgeBatch', {
      items: [
        { id: 'x', question: right.request!.question, solution: right.completionText, templateName: '' },
      ],
    });
    judgeClient.close();
    const judgeScore = direct.results[0]!.score;

    const lab = scored.get('lab-1')![0]!;
    assert.equal(lab.reward?.status, ST.REWARD_STATUS_OK);
    assert.equal(lab.reward?.components?.verifiable?.value, 1);
    assert.ok(Math.abs((lab.reward?.components?.judge?.value ?? -1) - judgeScore) < 1e-9);
    assert.ok(Math.abs((lab.reward?.total ?? -1) - (0.5 + 0.5 * judgeScore)) < 1e-9);
    assert.equal(lab.reward?.provenance?.templateName, 'plain');
    assert.equal(
      lab.generated?.completionText,
      right.completionText,
      'the generated sample is embedded whole',
    );

    const unl = scored.get('unl-1')![0]!;
    assert.equal(unl.reward?.status, ST.REWARD_STATUS_OK);
    assert.equal(unl.reward?.components?.verifiable, undefined);
    assert.ok(Math.abs((unl.reward?.total ?? -1) - judgeScore) < 1e-9);
    assert.deepEqual(unl.reward?.effectiveWeights, { lambdaVr: 0, muJudge: 1, rhoRerank: 0 });
  });

  it('each rollout is mixed with the reward config its request carries: μ changes without a restart', async () => {
    // The service from the test above (REWARD_LAMBDA_VR = REWARD_MU_JUDGE = 0.5) keeps running:
    // two runs with other weights, one request without a config, one with bad weights.
    const withReward = (id: string, weights?: rewardV1.RewardWeights): rolloutV1.RolloutGenerated => {
      const g = generated(id, { labeled: true, gold: '4', completion: ' 2 and 2 make 4. #### 4' });
      return weights === undefined
        ? g
        : {
            ...g,
            request: {
              ...g.request!,
              reward: { weights, judgeTemplateName: '', judgeAbstainBand: 0, verifiableCheck: 0 },
            },
          };
    };
    await publishGenerated(withReward('mix-a', { lambdaVr: 0.2, muJudge: 0.8, rhoRerank: 0 }), 'mix-a:g');
    await publishGenerated(withReward('mix-b', { lambdaVr: 1, muJudge: 0, rhoRerank: 0 }), 'mix-b:g');
    await publishGenerated(withReward('mix-default'), 'mix-default:g');
    await publishGenerated(withReward('mix-bad', { lambdaVr: 0.7, muJudge: 0.7, rhoRerank: 0 }), 'mix-bad:g');
    await waitFor(() => ['mix-a', 'mix-b', 'mix-default', 'mix-bad'].every((id) => scored.has(id)));
    const reward = (id: string) => scored.get(id)![0]!.reward!;

    const a = reward('mix-a');
    const judgeScore = a.components?.judge?.value ?? Number.NaN;
    assert.ok(judgeScore > 0 && judgeScore < 1, `judge score ${judgeScore}`);
    assert.deepEqual(a.effectiveWeights, { lambdaVr: 0.2, muJudge: 0.8, rhoRerank: 0 });
    assert.ok(Math.abs(a.total - (0.2 + 0.8 * judgeScore)) < 1e-9);

    const b = reward('mix-b');
    assert.deepEqual(b.effectiveWeights, { lambdaVr: 1, muJudge: 0, rhoRerank: 0 });
    assert.equal(b.total, 1, 'μ = 0: the verifiable reward alone');
    assert.equal(b.components?.judge, undefined, 'μ = 0: the judge is not asked');

    const d = reward('mix-default');
    assert.deepEqual(
      d.effectiveWeights,
      { lambdaVr: 0.5, muJudge: 0.5, rhoRerank: 0 },
      'no config: the env defaults',
    );
    assert.ok(Math.abs(d.total - (0.5 + 0.5 * judgeScore)) < 1e-9);

    const bad = reward('mix-bad');
    assert.equal(bad.status, ST.REWARD_STATUS_ERROR, 'masked, not redelivered forever');
    assert.match(bad.message, /request\.reward\.weights/);
  });

  it('a redelivered rollout yields one scored message', async () => {
    const g = generated('dup-1', { labeled: true, gold: '4', completion: '#### 5' });
    // The same rollout twice on the generated subject (as after a crash before the ack).
    await publishGenerated(g, 'dup-1:generated:a');
    await publishGenerated(g, 'dup-1:generated:b');
    await waitFor(() => published.filter((p) => p.id === 'dup-1').length === 2);
    await m.flush();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(scored.get('dup-1')?.length, 1);
    assert.deepEqual(
      published.filter((p) => p.id === 'dup-1').map((p) => p.duplicate),
      [false, true],
    );
  });

  it('judge unreachable or silent → ERROR / TIMEOUT status, still published and acked', async () => {
    await stopApp();
    const closedPort = await findFreePort();
    await startApp({
      JUDGE_ADDRESS: `127.0.0.1:${closedPort}`,
      REWARD_JUDGE_TIMEOUT: '1s',
      REWARD_JUDGE_MAX_ATTEMPTS: '2',
    });
    await publishGenerated(
      generated('down-1', { labeled: true, gold: '4', completion: '#### 4' }),
      'down-1:g',
    );
    await waitFor(() => scored.has('down-1'));
    const down = scored.get('down-1')![0]!.reward!;
    assert.ok(
      [ST.REWARD_STATUS_ERROR, ST.REWARD_STATUS_TIMEOUT].includes(down.status),
      `status ${down.status}`,
    );
    assert.match(down.message, /judge/);
    assert.equal(down.components?.verifiable?.value, 1, 'the VR term is still there');
    await stopApp();

    // A judge that accepts connections and never answers: the deadline gives TIMEOUT.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    // In finally: an open socket to the silent judge would keep the test process alive after a failure.
    try {
      await startApp({ JUDGE_ADDRESS: `127.0.0.1:${port}`, REWARD_JUDGE_TIMEOUT: '500ms' });
      await publishGenerated(generated('silent-1', { labeled: false, completion: '#### 4' }), 'silent-1:g');
      await waitFor(() => scored.has('silent-1'));
      const silentReward = scored.get('silent-1')![0]!.reward!;
      assert.equal(silentReward.status, ST.REWARD_STATUS_TIMEOUT);
      assert.equal(silentReward.total, 0);
      const info = await settledRewardConsumer(m);
      assert.equal(info.num_ack_pending, 0, 'every generated message was acked');
      assert.equal(info.num_pending, 0);
    } finally {
      await stopApp();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('Score RPC: λ = 0 with an unlabeled and a labeled item; bad weights are INVALID_ARGUMENT', async () => {
    const address = await startApp({ JUDGE_ADDRESS: judge.address });
    const client = createGrpcClient(rewardV1.RewardServiceClient, address, { defaultDeadlineMs: 20_000 });
    try {
      const reply = await client.unary('score', {
        items: [
          {
            id: 'a',
            question: 'How many?',
            completion: '#### 4',
            labeled: true,
            goldAnswer: '4',
            groupId: 'g',
          },
          { id: 'b', question: 'How many?', completion: '#### 4', labeled: false, groupId: 'g' },
        ],
        config: {
          weights: { lambdaVr: 0, muJudge: 1, rhoRerank: 0 },
          labeled: { verifiable: true, judge: true, rerank: false },
          unlabeled: { verifiable: false, judge: true, rerank: false },
          judgeTemplateName: '',
          judgeAbstainBand: 0,
          verifiableCheck: 0,
        },
      });
      assert.deepEqual(
        reply.items.map((i) => [i.id, i.result?.status]),
        [
          ['a', ST.REWARD_STATUS_OK],
          ['b', ST.REWARD_STATUS_OK],
        ],
      );
      assert.equal(reply.items[0]!.result?.components?.verifiable, undefined, 'λ = 0: no VR term at all');
      assert.equal(reply.items[0]!.result?.total, reply.items[1]!.result?.total);
      await assert.rejects(
        client.unary('score', {
          items: [],
          config: {
            weights: { lambdaVr: 0.7, muJudge: 0.7, rhoRerank: 0 },
            judgeTemplateName: '',
            judgeAbstainBand: 0,
            verifiableCheck: 0,
          },
        }),
        (error: unknown) =>
          isVerdictError(error) && error.code === 'INVALID_ARGUMENT' && error.field === 'config.weights',
      );
    } finally {
      client.close();
    }
  });
});
