import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rolloutV1 } from '@verdict/proto';
import { connectNats, type Messaging } from '@verdict/runtime';
import {
  consumerState,
  type NatsServerHandle,
  poisonLinesByKind,
  publishPayloadPoisons,
  recordingLogger,
  startNatsServer,
  waitUntil,
} from '@verdict/runtime/testing';
import type { RewardServiceApp } from '../src/app.js';
import { ROLLOUTS_STREAM, SUBJECT_ROLLOUT_GENERATED } from '../src/streams.js';
import { createTestRewardApp, generated } from './helpers.js';

// Poison messages on verdict.rollout.generated over a real nats-server: each kind is terminated
// with one log line, exactly once, and the rollout published behind them is still scored.

const MAX_BYTES = 4_096;

describe('reward-service poison messages on verdict.rollout.generated', () => {
  let nats: NatsServerHandle;
  let m: Messaging;
  let app: RewardServiceApp;
  const log = recordingLogger();
  const scored: string[] = [];

  const encode = (id: string) =>
    rolloutV1.RolloutGenerated.encode(
      generated(id, { labeled: true, gold: '4', completion: 'He has 2 + 2 = 4 apples. #### 4' }),
    ).finish();

  before(async () => {
    nats = await startNatsServer();
    m = await connectNats({ servers: nats.url });
    // λ = 1: verifiable reward only, no judge needed.
    app = createTestRewardApp(
      {
        NATS_URL: nats.url,
        REWARD_LAMBDA_VR: '1',
        REWARD_MU_JUDGE: '0',
        REWARD_NATS_MAX_MESSAGE_BYTES: String(MAX_BYTES),
        REWARD_CONCURRENCY: '1',
      },
      { logger: log.logger, onScored: (id) => scored.push(id) },
    );
    await app.start();
  });

  after(async () => {
    await app?.stop();
    await m?.close();
    await nats?.stop();
  });

  it('terminates bad protobuf, a wrong schema, an oversized payload and a duplicate once each; the next rollout is scored (unknown run: not applicable, the reward config rides in the message)', async () => {
    await m.publish(SUBJECT_ROLLOUT_GENERATED, encode('first'), { msgId: 'first:generated' });
    await waitUntil(() => scored.includes('first'), 'the first rollout scored');

    await publishPayloadPoisons(m, {
      subject: SUBJECT_ROLLOUT_GENERATED,
      valid: encode('never-scored'),
      maxBytes: MAX_BYTES,
      idPrefix: 'poison',
    });
    // The same rollout again under another message id (outside JetStream's duplicate window).
    await m.publish(SUBJECT_ROLLOUT_GENERATED, encode('first'), { msgId: 'first:generated:again' });
    await m.publish(SUBJECT_ROLLOUT_GENERATED, encode('after'), { msgId: 'after:generated' });

    await waitUntil(() => scored.includes('after'), 'the rollout behind the poison scored');
    await waitUntil(
      async () => (await consumerState(m, ROLLOUTS_STREAM.name, 'reward-service')).ackPending === 0,
      'every message settled',
    );
    const state = await consumerState(m, ROLLOUTS_STREAM.name, 'reward-service');
    assert.deepEqual(state, { pending: 0, ackPending: 0, redelivered: 0 }, 'nothing left or redelivered');
    assert.deepEqual(scored, ['first', 'after'], 'no poison was scored');
    assert.deepEqual(poisonLinesByKind(log.lines, SUBJECT_ROLLOUT_GENERATED), {
      undecodable: 1,
      wrong_schema: 1,
      oversized: 1,
      duplicate: 1,
    });
    await app.stop();
    assert.equal(app.consumeStats?.termed, 4, 'each poison terminated once');
    assert.equal(app.consumeStats?.acked, 2);
  });
});
