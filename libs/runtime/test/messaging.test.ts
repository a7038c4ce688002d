import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVerdictError, VerdictError } from '../src/errors/index.js';
import {
  connectNats,
  type HandlerOutcome,
  type MessageContext,
  type Messaging,
  retryDelayMs,
} from '../src/messaging/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

let server: NatsServerHandle;
let messaging: Messaging;
let streamCounter = 0;

before(async () => {
  server = await startNatsServer();
  messaging = await connectNats({ servers: server.url, name: 'messaging-test' });
});

after(async () => {
  await messaging?.close();
  await server?.stop();
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves on the client's next reconnect (it rides out restarts with its default policy). */
async function nextReconnect(): Promise<void> {
  for await (const status of messaging.connection.status()) if (status.type === 'reconnect') return;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh stream + durable consumer per test, so tests do not see each other's messages. */
async function freshStream(consumer: { ackWaitMs?: number; maxDeliver?: number } = {}) {
  streamCounter++;
  const stream = `T${streamCounter}`;
  const subject = `t${streamCounter}.work`;
  await messaging.ensureStream({
    name: stream,
    subjects: [`t${streamCounter}.>`],
    duplicateWindowMs: 60_000,
  });
  await messaging.ensureConsumer({
    stream,
    name: 'worker',
    ackWaitMs: consumer.ackWaitMs ?? 2_000,
    maxDeliver: consumer.maxDeliver ?? 5,
  });
  return { stream, subject };
}

interface Delivery {
  text: string;
  deliveryCount: number;
  atMs: number;
}

function startConsumer(
  stream: string,
  handler: (msg: MessageContext, deliveries: Delivery[]) => HandlerOutcome | Promise<HandlerOutcome>,
  concurrency = 1,
) {
  const deliveries: Delivery[] = [];
  const controller = new AbortController();
  const done = messaging.consume({
    stream,
    consumer: 'worker',
    concurrency,
    signal: controller.signal,
    fetchExpiresMs: 1_000,
    retryBaseDelayMs: 100,
    handler: (msg) => {
      deliveries.push({ text: msg.text(), deliveryCount: msg.deliveryCount, atMs: Date.now() });
      return handler(msg, deliveries);
    },
  });
  return { deliveries, stop: () => controller.abort(), done };
}

describe('nats-server harness', () => {
  it('names the install command when the binary is missing', async () => {
    await assert.rejects(
      startNatsServer({ bin: '/nonexistent/nats-server' }),
      /nats-server not found: install it with apt-get install nats-server/,
    );
  });

  it('keeps JetStream data across restart()', async () => {
    const { stream, subject } = await freshStream();
    await messaging.publish(subject, 'kept');
    const reconnected = nextReconnect();
    await server.restart();
    await reconnected;
    const info = await messaging.jetstreamManager.streams.info(stream);
    assert.equal(info.state.messages, 1);
  });
});

describe('nats-server crash', () => {
  it('restart() after kill(SIGKILL) recovers acknowledged publishes', async () => {
    const { stream, subject } = await freshStream();
    for (let i = 0; i < 3; i++) await messaging.publish(subject, `m${i}`);
    const reconnected = nextReconnect();
    await server.kill('SIGKILL');
    await server.restart();
    await reconnected;
    const info = await messaging.jetstreamManager.streams.info(stream);
    assert.equal(info.state.messages, 3);
  });
});

describe('streams and publish', () => {
  it('ensureStream is idempotent, updates limits, refuses a retention change', async () => {
    const spec = { name: 'IDEMP', subjects: ['idemp.>'], maxAgeMs: 60_000 };
    assert.deepEqual(await messaging.ensureStream(spec), { created: true, updated: false });
    assert.deepEqual(await messaging.ensureStream(spec), { created: false, updated: false });
    assert.deepEqual(await messaging.ensureStream({ ...spec, maxAgeMs: 120_000 }), {
      created: false,
      updated: true,
    });
    await assert.rejects(messaging.ensureStream({ ...spec, retention: 'workqueue' }), (err: unknown) => {
      assert.ok(isVerdictError(err));
      assert.equal(err.code, 'FAILED_PRECONDITION');
      assert.equal(err.field, 'retention');
      assert.match(
        err.message,
        /retention is limits on the server, declared workqueue; it cannot be changed/,
      );
      return true;
    });
  });

  it('ensureConsumer is idempotent and applies a new ack wait', async () => {
    const { stream } = await freshStream();
    const spec = { stream, name: 'worker', ackWaitMs: 2_000, maxDeliver: 5 };
    assert.deepEqual(await messaging.ensureConsumer(spec), { created: false, updated: false });
    assert.deepEqual(await messaging.ensureConsumer({ ...spec, ackWaitMs: 3_000 }), {
      created: false,
      updated: true,
    });
    const info = await messaging.jetstreamManager.consumers.info(stream, 'worker');
    assert.equal(info.config.ack_wait, 3_000 * 1_000_000);
  });

  it('stores a repeated msgId once within the duplicate window', async () => {
    const { stream, subject } = await freshStream();
    const first = await messaging.publish(subject, 'a', { msgId: 'rollout-1' });
    const repeat = await messaging.publish(subject, 'a', { msgId: 'rollout-1' });
    const other = await messaging.publish(subject, 'b', { msgId: 'rollout-2' });
    assert.equal(first.duplicate, false);
    assert.equal(repeat.duplicate, true);
    assert.equal(repeat.seq, first.seq);
    assert.equal(other.duplicate, false);
    assert.equal(other.seq, first.seq + 1);
    const info = await messaging.jetstreamManager.streams.info(stream);
    assert.equal(info.state.messages, 2);
  });
});

describe('consume loop outcomes', () => {
  it('nak with delay redelivers after the delay', async () => {
    const { stream, subject } = await freshStream();
    await messaging.publish(subject, 'x');
    const c = startConsumer(stream, (msg) => (msg.deliveryCount === 1 ? { nak: 400 } : 'ack'));
    await waitFor(() => c.deliveries.length === 2);
    c.stop();
    const stats = await c.done;
    const [first, second] = c.deliveries;
    assert.equal(second?.deliveryCount, 2);
    // A lower bound only: the server must not redeliver before the requested delay.
    assert.ok(second!.atMs - first!.atMs >= 350, `redelivered after ${second!.atMs - first!.atMs} ms`);
    assert.equal(stats.naked, 1);
    assert.equal(stats.acked, 1);
  });

  it('term stops redelivery', async () => {
    const { stream, subject } = await freshStream({ ackWaitMs: 1_000 });
    await messaging.publish(subject, 'poison');
    await messaging.publish(subject, 'fine');
    const c = startConsumer(stream, (msg) => (msg.text() === 'poison' ? 'term' : 'ack'));
    await waitFor(() => c.deliveries.length === 2);
    await sleep(2_000); // two ack-wait periods: a non-termed message would be back by now
    c.stop();
    const stats = await c.done;
    assert.deepEqual(c.deliveries.map((d) => d.text).sort(), ['fine', 'poison']);
    assert.equal(stats.termed, 1);
    const info = await messaging.jetstreamManager.consumers.info(stream, 'worker');
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  });

  it('a throwing handler gets the message again, then it is termed after maxDeliver', async () => {
    const { stream, subject } = await freshStream({ maxDeliver: 3, ackWaitMs: 1_000 });
    await messaging.publish(subject, 'flaky');
    await messaging.publish(subject, 'broken');
    const c = startConsumer(stream, (msg) => {
      if (msg.text() === 'flaky' && msg.deliveryCount === 1) throw new Error('transient');
      if (msg.text() === 'broken') throw new Error('always fails');
      return 'ack';
    });
    await waitFor(() => c.deliveries.filter((d) => d.text === 'broken').length === 3);
    await waitFor(() => c.deliveries.filter((d) => d.text === 'flaky').length === 2);
    await sleep(1_500);
    c.stop();
    const stats = await c.done;
    assert.deepEqual(
      c.deliveries.filter((d) => d.text === 'flaky').map((d) => d.deliveryCount),
      [1, 2],
    );
    assert.deepEqual(
      c.deliveries.filter((d) => d.text === 'broken').map((d) => d.deliveryCount),
      [1, 2, 3],
    );
    assert.equal(stats.handlerErrors, 4);
    assert.equal(stats.termed, 1);
    assert.equal(stats.acked, 1);
  });

  it('a VerdictError with INVALID_ARGUMENT is termed on first delivery', async () => {
    const { stream, subject } = await freshStream({ maxDeliver: 5, ackWaitMs: 1_000 });
    await messaging.publish(subject, 'malformed');
    const c = startConsumer(stream, () => {
      throw new VerdictError('INVALID_ARGUMENT', 'rollout has no tokens', { field: 'completionTokenIds' });
    });
    await waitFor(() => c.deliveries.length === 1);
    await sleep(1_500);
    c.stop();
    const stats = await c.done;
    assert.equal(c.deliveries.length, 1);
    assert.equal(stats.termed, 1);
  });

  it('a handler slower than ack wait keeps its message (working() heartbeats)', async () => {
    const { stream, subject } = await freshStream({ ackWaitMs: 1_000 });
    await messaging.publish(subject, 'slow');
    // Two slots: a redelivery during the slow handler would be picked up and show here.
    const c = startConsumer(
      stream,
      async (): Promise<HandlerOutcome> => {
        await sleep(2_500);
        return 'ack';
      },
      2,
    );
    await waitFor(() => c.deliveries.length === 1);
    await sleep(3_000);
    c.stop();
    const stats = await c.done;
    assert.equal(c.deliveries.length, 1);
    assert.equal(stats.acked, 1);
  });

  it('an invalid handler result counts as a failure and is retried', async () => {
    const { stream, subject } = await freshStream();
    await messaging.publish(subject, 'x');
    const c = startConsumer(stream, (msg) =>
      msg.deliveryCount === 1 ? (undefined as unknown as HandlerOutcome) : 'ack',
    );
    await waitFor(() => c.deliveries.length === 2);
    c.stop();
    const stats = await c.done;
    assert.equal(stats.handlerErrors, 1);
    assert.equal(stats.acked, 1);
  });

  it('retry delays double per delivery up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, 500, 5_000)),
      [500, 1_000, 2_000, 4_000, 5_000, 5_000],
    );
  });

  it('graceful stop finishes and acks in-flight work, then pulls nothing more', async () => {
    const { stream, subject } = await freshStream({ ackWaitMs: 30_000 });
    for (let i = 0; i < 10; i++) await messaging.publish(subject, `job-${i}`);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const finished: string[] = [];
    const c = startConsumer(
      stream,
      async (msg): Promise<HandlerOutcome> => {
        await gate;
        finished.push(msg.text());
        return 'ack';
      },
      4,
    );
    await waitFor(() => c.deliveries.length === 4);
    c.stop();
    await sleep(100);
    release();
    const stats = await c.done;
    assert.equal(finished.length, 4);
    assert.equal(stats.acked, 4);
    assert.equal(c.deliveries.length, 4);
    const info = await messaging.jetstreamManager.consumers.info(stream, 'worker');
    assert.equal(info.num_ack_pending, 0, 'every in-flight message was acked before consume() resolved');
    assert.equal(info.ack_floor.stream_seq, 4);
    assert.equal(info.num_pending, 6);
  });

  it('keeps consuming across a nats-server restart', async () => {
    const { stream, subject } = await freshStream();
    const c = startConsumer(stream, () => 'ack');
    for (let i = 0; i < 5; i++) await messaging.publish(subject, `before-${i}`);
    await waitFor(() => c.deliveries.length === 5);
    const reconnected = nextReconnect();
    await server.restart();
    await reconnected;
    for (let i = 0; i < 5; i++) await messaging.publish(subject, `after-${i}`);
    await waitFor(() => c.deliveries.length >= 10, 30_000);
    c.stop();
    await c.done;
    assert.equal(new Set(c.deliveries.map((d) => d.text)).size, 10);
  });

  it('passes headers through the inject/extract hooks', async () => {
    const { stream, subject } = await freshStream();
    const ran: unknown[] = [];
    messaging.setHeaderHooks({
      injectHeaders: (h) => h.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
      extractContext: (h) => ({ traceparent: h.get('traceparent') }),
      runInContext: async (ctx, fn) => {
        ran.push(ctx);
        return fn();
      },
    });
    try {
      await messaging.publish(subject, 'traced', { headers: { 'x-run-id': 'run-7' } });
      const seen: MessageContext[] = [];
      const c = startConsumer(stream, (msg) => {
        seen.push(msg);
        return 'ack';
      });
      await waitFor(() => seen.length === 1);
      c.stop();
      await c.done;
      const msg = seen[0]!;
      assert.equal(msg.headers.get('x-run-id'), 'run-7');
      assert.equal(msg.headers.get('traceparent'), '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      assert.deepEqual(msg.traceContext, {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      assert.deepEqual(ran, [msg.traceContext]);
    } finally {
      messaging.setHeaderHooks(undefined);
    }
  });
});

describe('small state (KV)', () => {
  it('create is first-writer-wins and update is compare-and-set', async () => {
    const kv = await messaging.smallState('run_state');
    assert.equal(await kv.create('weights', 'v1'), true);
    assert.equal(await kv.create('weights', 'v2'), false);
    const current = await kv.get('weights');
    assert.equal(new TextDecoder().decode(current!.value), 'v1');
    assert.equal(await kv.update('weights', 'v2', current!.revision), true);
    assert.equal(await kv.update('weights', 'v3', current!.revision), false);
    assert.equal(new TextDecoder().decode((await kv.get('weights'))!.value), 'v2');
    assert.equal(await kv.get('missing'), undefined);
  });
});
