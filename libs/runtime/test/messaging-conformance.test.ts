// One test body, two transports: a real nats-server (connectNats) and the in-process broker
// (connectMessaging with mem://). Whatever passes here is the contract services rely on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVerdictError } from '../src/errors/index.js';
import {
  type ConsumeOptions,
  type ConsumeStats,
  connectMessaging,
  disposeInMemoryBroker,
  type HandlerOutcome,
  type MessageContext,
  type Messaging,
  VerdictError,
} from '../src/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

interface Transport {
  readonly name: string;
  setup(): Promise<void>;
  connect(name: string): Promise<Messaging>;
  teardown(): Promise<void>;
}

function natsTransport(): Transport {
  let server: NatsServerHandle | undefined;
  return {
    name: 'nats',
    async setup() {
      server = await startNatsServer();
    },
    connect: (name) => connectMessaging({ servers: server!.url, name }),
    teardown: async () => server?.stop(),
  };
}

function memoryTransport(): Transport {
  const url = `mem://conformance-${process.pid}`;
  return {
    name: 'memory',
    async setup() {},
    connect: (name) => connectMessaging({ servers: url, name }),
    async teardown() {
      disposeInMemoryBroker(url.slice('mem://'.length));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

interface Seen {
  text: string;
  deliveryCount: number;
  redelivered: boolean;
}

/** Runs a consume loop until `until(seen)` holds, then stops it gracefully; returns what it saw. */
async function consumeUntil(
  m: Messaging,
  options: Omit<ConsumeOptions, 'handler' | 'signal'> & {
    handler: (msg: MessageContext, seen: Seen[]) => ReturnType<ConsumeOptions['handler']>;
  },
  until: (seen: Seen[]) => boolean,
): Promise<{ seen: Seen[]; stats: ConsumeStats }> {
  const seen: Seen[] = [];
  const stop = new AbortController();
  const done = m.consume({
    fetchExpiresMs: 1_000,
    retryBaseDelayMs: 50,
    ...options,
    signal: stop.signal,
    handler: (msg) => {
      seen.push({ text: msg.text(), deliveryCount: msg.deliveryCount, redelivered: msg.redelivered });
      return options.handler(msg, seen);
    },
  });
  try {
    await waitFor(() => until(seen));
  } finally {
    stop.abort();
  }
  return { seen, stats: await done };
}

for (const transport of [natsTransport(), memoryTransport()]) {
  describe(`messaging conformance: ${transport.name}`, () => {
    let m: Messaging;
    let counter = 0;
    before(async () => {
      await transport.setup();
      m = await transport.connect('conformance');
    });
    after(async () => {
      await m?.close();
      await transport.teardown();
    });

    async function fresh(consumer: { ackWaitMs?: number; maxDeliver?: number } = {}) {
      counter++;
      const stream = `C${counter}`;
      const subject = `c${counter}.work`;
      await m.ensureStream({ name: stream, subjects: [`c${counter}.>`], duplicateWindowMs: 60_000 });
      await m.ensureConsumer({
        stream,
        name: 'worker',
        filterSubject: subject,
        ackWaitMs: consumer.ackWaitMs ?? 2_000,
        maxDeliver: consumer.maxDeliver ?? 5,
      });
      return { stream, subject };
    }

    it('reports its transport', () => {
      assert.equal(m.transport, transport.name);
      assert.equal(m.isClosed(), false);
    });

    it('ensureStream: create, no-op, update, refuses a retention change, refuses overlap', async () => {
      const spec = { name: 'ENSURE', subjects: ['ensure.>'], maxAgeMs: 60_000 };
      assert.deepEqual(await m.ensureStream(spec), { created: true, updated: false });
      assert.deepEqual(await m.ensureStream(spec), { created: false, updated: false });
      assert.deepEqual(await m.ensureStream({ ...spec, maxAgeMs: 120_000 }), {
        created: false,
        updated: true,
      });
      await assert.rejects(
        m.ensureStream({ ...spec, retention: 'workqueue' }),
        (err: unknown) =>
          isVerdictError(err) && err.code === 'FAILED_PRECONDITION' && err.field === 'retention',
      );
      await assert.rejects(m.ensureStream({ name: 'ENSURE2', subjects: ['ensure.x'] }));
      await m.ensureStream({ name: 'ENSURE3', subjects: ['ensure3.>'] });
      assert.deepEqual(await m.ensureConsumer({ stream: 'ENSURE3', name: 'c', ackWaitMs: 5_000 }), {
        created: true,
        updated: false,
      });
      assert.deepEqual(await m.ensureConsumer({ stream: 'ENSURE3', name: 'c', ackWaitMs: 5_000 }), {
        created: false,
        updated: false,
      });
      assert.deepEqual(await m.ensureConsumer({ stream: 'ENSURE3', name: 'c', ackWaitMs: 6_000 }), {
        created: false,
        updated: true,
      });
    });

    it('publish deduplicates by msgId within the window and returns the original sequence', async () => {
      const { subject } = await fresh();
      const first = await m.publish(subject, 'a', { msgId: 'id-1' });
      const again = await m.publish(subject, 'a-again', { msgId: 'id-1' });
      const other = await m.publish(subject, 'b', { msgId: 'id-2' });
      assert.equal(first.duplicate, false);
      assert.deepEqual(again, { stream: first.stream, seq: first.seq, duplicate: true });
      assert.equal(other.seq, first.seq + 1);
      const { seen } = await consumeUntil(
        m,
        { stream: first.stream, consumer: 'worker', handler: () => 'ack' },
        (s) => s.length >= 2,
      );
      await sleep(300);
      assert.deepEqual(
        seen.map((s) => s.text),
        ['a', 'b'],
      );
    });

    it('refuses a publish with a wrong expected last sequence and one no stream stores', async () => {
      const { subject } = await fresh();
      const { seq } = await m.publish(subject, 'x');
      await m.publish(subject, 'y', { expectLastSequence: seq });
      await assert.rejects(m.publish(subject, 'z', { expectLastSequence: seq }));
      await assert.rejects(m.publish(`nowhere.${counter}`, 'lost'));
    });

    it('ack settles, nak redelivers, term never redelivers', async () => {
      const { stream, subject } = await fresh();
      for (const text of ['ack', 'nak-then-ack', 'term']) await m.publish(subject, text);
      const { seen, stats } = await consumeUntil(
        m,
        {
          stream,
          consumer: 'worker',
          handler: (msg) => {
            const text = msg.text();
            if (text === 'term') return 'term';
            if (text === 'nak-then-ack' && msg.deliveryCount === 1) return { nak: 100 };
            return 'ack';
          },
        },
        (s) => s.some((x) => x.text === 'nak-then-ack' && x.deliveryCount === 2),
      );
      await sleep(500);
      const naked = seen.filter((s) => s.text === 'nak-then-ack');
      assert.deepEqual(
        naked.map((s) => [s.deliveryCount, s.redelivered]),
        [
          [1, false],
          [2, true],
        ],
      );
      assert.equal(seen.filter((s) => s.text === 'term').length, 1);
      assert.equal(seen.filter((s) => s.text === 'ack').length, 1);
      assert.deepEqual(stats, { delivered: 4, acked: 2, naked: 1, termed: 1, handlerErrors: 0 });
      // Nothing left: a later loop sees no message.
      await m.publish(subject, 'sentinel');
      const later = await consumeUntil(
        m,
        { stream, consumer: 'worker', handler: () => 'ack' },
        (s) => s.length >= 1,
      );
      assert.deepEqual(
        later.seen.map((s) => s.text),
        ['sentinel'],
      );
    });

    it('redelivers after ack wait when the handler neither settles nor calls working()', async () => {
      const { stream, subject } = await fresh({ ackWaitMs: 1_000 });
      await m.publish(subject, 'slow');
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const { seen } = await consumeUntil(
        m,
        {
          stream,
          consumer: 'worker',
          concurrency: 2,
          workingIntervalMs: 0,
          handler: async (msg): Promise<HandlerOutcome> => {
            if (msg.deliveryCount === 1) await gate;
            return 'ack';
          },
        },
        (s) => {
          if (s.length < 2) return false;
          release();
          return true;
        },
      );
      assert.deepEqual(
        seen.map((s) => [s.text, s.deliveryCount, s.redelivered]),
        [
          ['slow', 1, false],
          ['slow', 2, true],
        ],
      );
    });

    it('working() keeps a slow message from being redelivered', async () => {
      const { stream, subject } = await fresh({ ackWaitMs: 1_000 });
      await m.publish(subject, 'slow-but-alive');
      await m.publish(subject, 'after');
      const { seen } = await consumeUntil(
        m,
        {
          stream,
          consumer: 'worker',
          concurrency: 2,
          handler: async (msg): Promise<HandlerOutcome> => {
            if (msg.text() === 'slow-but-alive') await sleep(2_500);
            return 'ack';
          },
        },
        (s) => s.length >= 2,
      );
      await sleep(2_600);
      assert.deepEqual(seen.map((s) => s.deliveryCount).sort(), [1, 1]);
    });

    it('a throwing handler is nak-ed with backoff and termed at max deliver; bad input termed at once', async () => {
      const { stream, subject } = await fresh({ maxDeliver: 3 });
      await m.publish(subject, 'flaky');
      await m.publish(subject, 'bad-input');
      const errors: unknown[] = [];
      const { seen, stats } = await consumeUntil(
        m,
        {
          stream,
          consumer: 'worker',
          onError: (e) => errors.push(e),
          handler: (msg) => {
            if (msg.text() === 'bad-input') throw new VerdictError('INVALID_ARGUMENT', 'never valid');
            throw new Error('transient');
          },
        },
        (s) => s.filter((x) => x.text === 'flaky').length >= 3 && s.some((x) => x.text === 'bad-input'),
      );
      assert.deepEqual(
        seen.filter((s) => s.text === 'flaky').map((s) => s.deliveryCount),
        [1, 2, 3],
      );
      assert.equal(seen.filter((s) => s.text === 'bad-input').length, 1);
      assert.deepEqual(stats, { delivered: 4, acked: 0, naked: 2, termed: 2, handlerErrors: 4 });
      assert.equal(errors.length, 4);
    });

    it('the consumer stops redelivering a nak-ed message at max deliver', async () => {
      const { stream, subject } = await fresh({ maxDeliver: 2 });
      await m.publish(subject, 'always-nak');
      const { seen } = await consumeUntil(
        m,
        { stream, consumer: 'worker', handler: () => ({ nak: 0 }) },
        (s) => s.length >= 2,
      );
      await m.publish(subject, 'next');
      const later = await consumeUntil(
        m,
        { stream, consumer: 'worker', handler: () => 'ack' },
        (s) => s.length >= 1,
      );
      await sleep(300);
      assert.deepEqual(
        seen.map((s) => s.deliveryCount),
        [1, 2],
      );
      assert.deepEqual(
        later.seen.map((s) => s.text),
        ['next'],
      );
    });

    it('filter subjects and deliver policies select what a durable consumer gets', async () => {
      counter++;
      const stream = `F${counter}`;
      await m.ensureStream({ name: stream, subjects: [`f${counter}.>`] });
      for (const s of ['a.one', 'b.one', 'a.two', 'a.deep.three']) await m.publish(`f${counter}.${s}`, s);
      await m.ensureConsumer({ stream, name: 'star', filterSubject: `f${counter}.a.*` });
      await m.ensureConsumer({ stream, name: 'gt', filterSubject: `f${counter}.a.>` });
      await m.ensureConsumer({
        stream,
        name: 'last',
        filterSubject: `f${counter}.b.*`,
        deliverPolicy: 'last',
      });
      await m.ensureConsumer({ stream, name: 'new', deliverPolicy: 'new' });
      await m.publish(`f${counter}.b.two`, 'b.two');
      const read = async (consumer: string, n: number) =>
        (await consumeUntil(m, { stream, consumer, handler: () => 'ack' }, (s) => s.length >= n)).seen.map(
          (s) => s.text,
        );
      assert.deepEqual(await read('star', 2), ['a.one', 'a.two']);
      assert.deepEqual(await read('gt', 3), ['a.one', 'a.two', 'a.deep.three']);
      assert.deepEqual(await read('last', 2), ['b.one', 'b.two']);
      assert.deepEqual(await read('new', 1), ['b.two']);
    });

    it('graceful stop: abort finishes in-flight handlers, acks them and pulls nothing more', async () => {
      const { stream, subject } = await fresh({ ackWaitMs: 10_000 });
      for (let i = 0; i < 3; i++) await m.publish(subject, `m${i}`);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const stop = new AbortController();
      const started: string[] = [];
      const done = m.consume({
        stream,
        consumer: 'worker',
        concurrency: 3,
        fetchExpiresMs: 1_000,
        signal: stop.signal,
        handler: async (msg): Promise<HandlerOutcome> => {
          started.push(msg.text());
          await gate;
          return 'ack';
        },
      });
      await waitFor(() => started.length === 3);
      stop.abort();
      await m.publish(subject, 'after-stop');
      await sleep(200);
      release();
      const stats = await done;
      assert.deepEqual(stats, { delivered: 3, acked: 3, naked: 0, termed: 0, handlerErrors: 0 });
      const later = await consumeUntil(
        m,
        { stream, consumer: 'worker', handler: () => 'ack' },
        (s) => s.length >= 1,
      );
      assert.deepEqual(
        later.seen.map((s) => s.text),
        ['after-stop'],
      );
    });

    it('two connections on one durable consumer share the messages, each handled once', async () => {
      const { stream, subject } = await fresh();
      const other = await transport.connect('conformance-2');
      try {
        const total = 20;
        for (let i = 0; i < total; i++) await m.publish(subject, `m${i}`);
        const seen: string[] = [];
        const stop = new AbortController();
        const run = (x: Messaging) =>
          x.consume({
            stream,
            consumer: 'worker',
            concurrency: 2,
            fetchExpiresMs: 1_000,
            signal: stop.signal,
            handler: async (msg): Promise<HandlerOutcome> => {
              seen.push(msg.text());
              await sleep(5);
              return 'ack';
            },
          });
        const loops = [run(m), run(other)];
        await waitFor(() => seen.length >= total);
        await sleep(300);
        stop.abort();
        const [a, b] = await Promise.all(loops);
        assert.equal(seen.length, total);
        assert.equal(new Set(seen).size, total);
        assert.equal((a?.acked ?? 0) + (b?.acked ?? 0), total);
      } finally {
        await other.close();
      }
    });
  });
}
