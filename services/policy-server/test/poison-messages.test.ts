import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rolloutV1, weightsV1 } from '@verdict/proto';
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
import type { PolicyApp } from '../src/app.js';
import { startWeightsSubscriber, type WeightsSubscriber } from '../src/consumers/weights-subscriber.js';
import { ROLLOUTS_STREAM, SUBJECTS, WEIGHTS_STREAM } from '../src/streams.js';
import { startPolicy } from './helpers.js';

// Poison messages on the two subjects the policy-server consumes, over a real nats-server: each
// kind is terminated (rollouts) or skipped (weights, an ordered consumer without acks) with one
// log line, exactly once, and the good message published behind them is still handled.

const MAX_BYTES = 4_096;

function request(id: string): rolloutV1.RolloutRequested {
  return rolloutV1.RolloutRequested.fromPartial({
    rolloutId: id,
    runId: 'poison-run',
    groupId: `${id}.g`,
    groupSize: 1,
    promptText: 'Once upon a time',
    sampling: { temperature: 0, maxNewTokens: 4 },
    requestedAt: new Date(),
  });
}

describe('policy-server poison messages on verdict.rollout.requested', () => {
  let nats: NatsServerHandle;
  let m: Messaging;
  let policy: { app: PolicyApp; address: string };
  const log = recordingLogger();
  const generated = new Set<string>();
  const stopReading = new AbortController();
  let reading: Promise<unknown>;

  before(async () => {
    nats = await startNatsServer();
    m = await connectNats({ servers: nats.url });
    await m.ensureStream(ROLLOUTS_STREAM);
    await m.ensureConsumer({
      stream: ROLLOUTS_STREAM.name,
      name: 'poison-test-reader',
      filterSubject: SUBJECTS.rolloutGenerated,
    });
    reading = m.consume({
      stream: ROLLOUTS_STREAM.name,
      consumer: 'poison-test-reader',
      signal: stopReading.signal,
      handler: (msg) => {
        generated.add(rolloutV1.RolloutGenerated.decode(msg.data).request!.rolloutId);
        return 'ack';
      },
    });
    policy = await startPolicy(
      {
        NATS_URL: nats.url,
        POLICY_MAX_BATCH_WAIT: '5ms',
        POLICY_NATS_MAX_MESSAGE_BYTES: String(MAX_BYTES),
        POLICY_ROLLOUT_CONCURRENCY: '1',
      },
      { logger: log.logger },
    );
  });

  after(async () => {
    stopReading.abort();
    await reading;
    await policy?.app.stop();
    await m?.close();
    await nats?.stop();
  });

  it('terminates bad protobuf, a wrong schema, an oversized payload and a duplicate once each; the next request is generated (unknown run: not applicable, the policy-server serves any run)', async () => {
    const first = request('first');
    await m.publish(SUBJECTS.rolloutRequested, rolloutV1.RolloutRequested.encode(first).finish(), {
      msgId: 'first',
    });
    await waitUntil(() => generated.has('first'), 'the first request generated');

    const valid = rolloutV1.RolloutRequested.encode(request('never-generated')).finish();
    await publishPayloadPoisons(m, {
      subject: SUBJECTS.rolloutRequested,
      valid,
      maxBytes: MAX_BYTES,
      idPrefix: 'poison',
    });
    // The same rollout again under another message id (outside JetStream's duplicate window).
    await m.publish(SUBJECTS.rolloutRequested, rolloutV1.RolloutRequested.encode(first).finish(), {
      msgId: 'first:again',
    });
    await m.publish(SUBJECTS.rolloutRequested, rolloutV1.RolloutRequested.encode(request('after')).finish(), {
      msgId: 'after',
    });

    await waitUntil(() => generated.has('after'), 'the request behind the poison generated');
    await waitUntil(
      async () => (await consumerState(m, ROLLOUTS_STREAM.name, 'policy-server')).ackPending === 0,
      'every message settled',
    );
    const state = await consumerState(m, ROLLOUTS_STREAM.name, 'policy-server');
    assert.deepEqual(state, { pending: 0, ackPending: 0, redelivered: 0 }, 'nothing left or redelivered');
    assert.deepEqual(poisonLinesByKind(log.lines, SUBJECTS.rolloutRequested), {
      undecodable: 1,
      wrong_schema: 1,
      oversized: 1,
      duplicate: 1,
    });
    assert.ok(!generated.has('never-generated'), 'the wrong-schema and oversized copies were not generated');
    assert.equal(policy.app.rolloutsPublished, 2);
  });
});

describe('policy-server poison messages on verdict.weights.published', () => {
  let nats: NatsServerHandle;
  let m: Messaging;
  let subscriber: WeightsSubscriber;
  const log = recordingLogger();
  const taken: string[] = [];

  function announcement(runId: string, version: bigint): Uint8Array {
    return weightsV1.WeightsPublished.encode(
      weightsV1.WeightsPublished.fromPartial({
        runId,
        version,
        step: version,
        objectName: `${runId}/v${version}.safetensors`,
        format: weightsV1.WeightsFormat.WEIGHTS_FORMAT_SAFETENSORS,
      }),
    ).finish();
  }

  before(async () => {
    nats = await startNatsServer();
    m = await connectNats({ servers: nats.url });
    await m.ensureStream(WEIGHTS_STREAM);
    subscriber = await startWeightsSubscriber({
      messaging: m,
      logger: log.logger,
      runId: 'run-a',
      maxMessageBytes: MAX_BYTES,
      onPublished: async (w) => {
        taken.push(`${w.runId}/v${w.version}`);
      },
    });
  });

  after(async () => {
    await subscriber?.stop();
    await m?.close();
    await nats?.stop();
  });

  it('skips bad protobuf, a wrong schema, an oversized payload and a duplicate once each, another run quietly; the next announcement is taken', async () => {
    await m.publish(SUBJECTS.weightsPublished, announcement('run-a', 1n), { msgId: 'a/1' });
    await waitUntil(() => taken.includes('run-a/v1'), 'version 1 taken');

    await publishPayloadPoisons(m, {
      subject: SUBJECTS.weightsPublished,
      valid: announcement('run-a', 9n),
      maxBytes: MAX_BYTES,
      idPrefix: 'poison',
    });
    await m.publish(SUBJECTS.weightsPublished, announcement('run-a', 1n), { msgId: 'a/1:again' });
    await m.publish(SUBJECTS.weightsPublished, announcement('run-b', 2n), { msgId: 'b/2' });
    await m.publish(SUBJECTS.weightsPublished, announcement('run-a', 2n), { msgId: 'a/2' });

    await waitUntil(() => taken.includes('run-a/v2'), 'version 2 taken');
    assert.deepEqual(taken, ['run-a/v1', 'run-a/v2'], 'no poison reached the hot swap');
    const once = { undecodable: 1, wrong_schema: 1, oversized: 1, duplicate: 1 };
    assert.deepEqual(poisonLinesByKind(log.lines, SUBJECTS.weightsPublished), once);
    assert.deepEqual(subscriber.poisoned, { ...once, unknown_run: 0 }, 'another run is not poison');
  });
});
