// The poison guard on both transports (a real nats-server and the in-process broker): publishes on
// Verdict subjects carry their schema header, and each poison kind is terminated once, logged
// once and counted once on `messages_poisoned_total` while the good messages around it flow.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  connectMessaging,
  createMetrics,
  createPoisonGuard,
  createRecentIds,
  disposeInMemoryBroker,
  type MessageContext,
  type Messaging,
  SCHEMA_HEADER,
  VERDICT_ROLLOUTS_STREAM,
  VERDICT_SCHEMAS,
  VERDICT_SUBJECTS,
} from '../src/index.js';
import {
  type NatsServerHandle,
  poisonLinesByKind,
  publishPayloadPoisons,
  recordingLogger,
  startNatsServer,
  waitUntil,
} from '../src/testing/index.js';

class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const SUBJECT = VERDICT_SUBJECTS.rolloutRequested;
const MAX_BYTES = 1_024;
const encoder = new TextEncoder();
const strictText = new TextDecoder('utf-8', { fatal: true });

/** A stand-in payload format: UTF-8 JSON `{ id }` (bad bytes throw, like a protobuf decode). */
const payload = (id: string) => encoder.encode(JSON.stringify({ id }));
const decode = (data: Uint8Array) => {
  const value = JSON.parse(strictText.decode(data)) as { id?: unknown };
  if (typeof value.id !== 'string') throw new Error('id is missing');
  return { id: value.id };
};

async function poisonRun(connect: () => Promise<Messaging>): Promise<void> {
  const m = await connect();
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const log = recordingLogger();
  try {
    await m.ensureStream(VERDICT_ROLLOUTS_STREAM);
    await m.ensureConsumer({
      stream: VERDICT_ROLLOUTS_STREAM.name,
      name: 'poison',
      filterSubject: SUBJECT,
      ackWaitMs: 30_000,
      maxDeliver: -1,
    });
    const guard = createPoisonGuard({
      subject: SUBJECT,
      schema: VERDICT_SCHEMAS[SUBJECT]!,
      maxBytes: MAX_BYTES,
      decode,
      logger: log.logger,
      metrics: createMetrics(provider.getMeter('test')),
    });
    const handled: string[] = [];
    const schemas: (string | undefined)[] = [];
    const recent = createRecentIds(100);
    const handler = (msg: MessageContext) => {
      const admitted = guard.admit(msg);
      if (!admitted.ok) return 'term' as const;
      const { id } = admitted.value;
      if (recent.has(id)) return guard.duplicate(msg, id);
      recent.add(id);
      handled.push(id);
      schemas.push(msg.headers.get(SCHEMA_HEADER));
      return 'ack' as const;
    };
    const stop = new AbortController();
    const loop = m.consume({
      stream: VERDICT_ROLLOUTS_STREAM.name,
      consumer: 'poison',
      handler,
      signal: stop.signal,
      fetchExpiresMs: 1_000,
    });

    await m.publish(SUBJECT, payload('a'), { msgId: 'a' });
    await publishPayloadPoisons(m, {
      subject: SUBJECT,
      valid: payload('x'),
      maxBytes: MAX_BYTES,
      idPrefix: 'p',
    });
    await m.publish(SUBJECT, payload('a'), { msgId: 'a:again' });
    await m.publish(SUBJECT, payload('b'), { msgId: 'b' });
    await waitUntil(() => handled.includes('b'), 'the message behind the poison handled');
    stop.abort();
    const stats = await loop;

    assert.deepEqual(handled, ['a', 'b']);
    assert.deepEqual(
      schemas,
      [VERDICT_SCHEMAS[SUBJECT], VERDICT_SCHEMAS[SUBJECT]],
      'publish stamps the schema',
    );
    assert.equal(stats.termed, 4, 'each poison terminated once');
    assert.equal(stats.acked, 2);
    assert.equal(stats.naked, 0);
    const once = { undecodable: 1, wrong_schema: 1, oversized: 1, duplicate: 1 };
    assert.deepEqual(poisonLinesByKind(log.lines, SUBJECT), once);
    assert.deepEqual({ ...guard.counts }, { ...once, unknown_run: 0 });

    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((x) => x.descriptor.name === 'messages_poisoned_total');
    assert.ok(metric, 'messages_poisoned_total is exported');
    const byKind = Object.fromEntries(
      metric.dataPoints.map((p) => [String(p.attributes['kind']), p.value as number]),
    );
    assert.deepEqual(byKind, once);
    assert.ok(metric.dataPoints.every((p) => p.attributes['subject'] === SUBJECT));
  } finally {
    await provider.shutdown();
    await m.close();
  }
}

describe('poison messages', () => {
  let server: NatsServerHandle | undefined;
  const memUrl = `mem://poison-${process.pid}`;

  after(async () => {
    await server?.stop();
    disposeInMemoryBroker(memUrl.slice('mem://'.length));
  });

  it('nats: terminates each poison kind once, logged and counted, and the next message flows', async () => {
    server = await startNatsServer();
    await poisonRun(() => connectMessaging({ servers: server!.url, name: 'poison-test' }));
  });

  it('memory: the same contract on the in-process broker', async () => {
    await poisonRun(() => connectMessaging({ servers: memUrl, name: 'poison-test' }));
  });

  it('a redelivery of a handled id is acked quietly; a new copy of it is a duplicate', () => {
    const log = recordingLogger();
    const guard = createPoisonGuard({
      subject: SUBJECT,
      schema: VERDICT_SCHEMAS[SUBJECT]!,
      maxBytes: MAX_BYTES,
      decode,
      logger: log.logger,
    });
    const msg = (deliveryCount: number) => ({
      data: payload('a'),
      headers: { get: () => undefined, set() {}, has: () => false, keys: () => [], toRecord: () => ({}) },
      streamSequence: 7,
      deliveryCount,
      msgId: undefined,
    });
    assert.equal(guard.duplicate(msg(2), 'a'), 'ack');
    assert.equal(guard.counts.duplicate, 0);
    assert.equal(log.lines.length, 0);
    assert.equal(guard.duplicate(msg(1), 'a'), 'term');
    assert.equal(guard.counts.duplicate, 1);
    assert.equal(log.lines.length, 1);
  });

  it('publishing on a subject outside the Verdict topology adds no schema header; a caller header wins', async () => {
    const { withSchemaHeader } = await import('../src/index.js');
    assert.equal(withSchemaHeader('other.subject', undefined), undefined);
    assert.deepEqual(withSchemaHeader(SUBJECT, { [SCHEMA_HEADER]: 'mine' }), { [SCHEMA_HEADER]: 'mine' });
    assert.deepEqual(withSchemaHeader(SUBJECT, { a: 'b' }), {
      [SCHEMA_HEADER]: VERDICT_SCHEMAS[SUBJECT],
      a: 'b',
    });
  });
});
