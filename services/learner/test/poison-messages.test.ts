import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { commonV1, rolloutV1 } from '@verdict/proto';
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
import { ScoredInbox } from '../src/consumers/scored-inbox.js';
import { StepCollector } from '../src/domain/step-collector.js';
import { ROLLOUTS_STREAM, SUBJECTS, scoredConsumerSpec } from '../src/streams.js';

// Poison messages on verdict.rollout.scored over a real nats-server, through the learner's inbox
// on its durable consumer (max_deliver -1: a message nak'd forever would never leave): each kind
// is terminated with one log line, exactly once, and the sample published behind them is taken.

const MAX_BYTES = 4_096;
const CONSUMER = 'learner-poison-test';

function scored(runId: string, id: string): Uint8Array {
  return rolloutV1.RolloutScored.encode(
    rolloutV1.RolloutScored.fromPartial({
      generated: {
        request: { rolloutId: id, runId, groupId: `${id}.g`, groupIndex: 0, groupSize: 1 },
        completionTokenIds: [4, 5],
        logprobs: [-0.5, -0.25],
        finishReason: commonV1.FinishReason.FINISH_REASON_STOP_TOKEN,
      },
      reward: { total: 1, status: commonV1.RewardStatus.REWARD_STATUS_OK },
    }),
  ).finish();
}

describe('learner poison messages on verdict.rollout.scored', () => {
  let nats: NatsServerHandle;
  let m: Messaging;
  const log = recordingLogger();
  const accepted: string[] = [];
  const inbox = new ScoredInbox({
    logger: log.logger,
    isFinished: (runId) => runId === 'finished-run',
    isKnown: (runId) => runId === 'run-a' || runId === 'finished-run',
    maxMessageBytes: MAX_BYTES,
  });
  const stop = new AbortController();
  let consuming: Promise<unknown>;

  before(async () => {
    nats = await startNatsServer();
    m = await connectNats({ servers: nats.url });
    await m.ensureStream(ROLLOUTS_STREAM);
    await m.ensureConsumer(scoredConsumerSpec(CONSUMER, 30_000, 64));
    inbox.attach({
      runId: 'run-a',
      collector: new StepCollector(),
      onAccepted: (s) => accepted.push(s.rolloutId),
    });
    consuming = m.consume({
      stream: ROLLOUTS_STREAM.name,
      consumer: CONSUMER,
      handler: inbox.handler,
      concurrency: 64,
      signal: stop.signal,
    });
  });

  after(async () => {
    stop.abort();
    await consuming;
    await m?.close();
    await nats?.stop();
  });

  it('terminates bad protobuf, a wrong schema, an oversized payload, a duplicate and an unknown run once each; the next sample is taken', async () => {
    await m.publish(SUBJECTS.rolloutScored, scored('run-a', 'first'), { msgId: 'first:scored' });
    await waitUntil(() => accepted.includes('first'), 'the first sample accepted');

    await publishPayloadPoisons(m, {
      subject: SUBJECTS.rolloutScored,
      valid: scored('run-a', 'never-taken'),
      maxBytes: MAX_BYTES,
      idPrefix: 'poison',
    });
    // A second message for the held sample (outside JetStream's duplicate window).
    await m.publish(SUBJECTS.rolloutScored, scored('run-a', 'first'), { msgId: 'first:scored:again' });
    await m.publish(SUBJECTS.rolloutScored, scored('stranger', 'x'), { msgId: 'x:scored' });
    // Not poison: a late sample of a run that has ended is acked and dropped.
    await m.publish(SUBJECTS.rolloutScored, scored('finished-run', 'late'), { msgId: 'late:scored' });
    await m.publish(SUBJECTS.rolloutScored, scored('run-a', 'after'), { msgId: 'after:scored' });

    await waitUntil(() => accepted.includes('after'), 'the sample behind the poison accepted');
    assert.deepEqual(accepted, ['first', 'after'], 'no poison was taken');
    // The step that used them is checkpointed: their messages are acked.
    inbox.settle(['first', 'after']);
    await waitUntil(
      async () => (await consumerState(m, ROLLOUTS_STREAM.name, CONSUMER)).ackPending === 0,
      'every message settled',
    );
    const state = await consumerState(m, ROLLOUTS_STREAM.name, CONSUMER);
    assert.deepEqual(state, { pending: 0, ackPending: 0, redelivered: 0 }, 'nothing left or redelivered');
    const once = { undecodable: 1, wrong_schema: 1, oversized: 1, duplicate: 1, unknown_run: 1 };
    assert.deepEqual(poisonLinesByKind(log.lines, SUBJECTS.rolloutScored), once);
    assert.deepEqual(inbox.poisoned, once);
  });
});
