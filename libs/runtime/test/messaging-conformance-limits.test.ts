// Conformance, part 4 (nats-server and the in-process broker): stream limits, payload size,
// duplicate window expiry, max ack pending.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connectMessaging,
  disposeInMemoryBroker,
  type HandlerOutcome,
  type Messaging,
  type OrderedSubscription,
} from '../src/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

let nats: NatsServerHandle;
const BROKER = `conformance-limits-${process.pid}`;

before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  disposeInMemoryBroker(BROKER);
  await nats?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(sub: OrderedSubscription): Promise<string[]> {
  const out: string[] = [];
  for await (const msg of sub) {
    out.push(msg.text());
    if (msg.pending === 0) break;
  }
  await sub.close();
  return out;
}

for (const transport of ['nats', 'memory'] as const) {
  describe(`messaging conformance (limits): ${transport}`, () => {
    let m: Messaging;
    before(async () => {
      m = await connectMessaging({
        servers: transport === 'nats' ? nats.url : `mem://${BROKER}`,
        name: 'limits',
      });
    });
    after(() => m?.close());

    it('maxMsgs with discard old keeps the newest messages', async () => {
      await m.ensureStream({ name: 'OLD', subjects: ['old.>'], maxMsgs: 3 });
      for (let i = 0; i < 5; i++) await m.publish('old.x', `m${i}`);
      const sub = await m.subscribeOrdered({ stream: 'OLD', deliverPolicy: 'all' });
      assert.deepEqual(await readAll(sub), ['m2', 'm3', 'm4']);
    });

    it('maxMsgs with discard new refuses the publish that would exceed it', async () => {
      await m.ensureStream({ name: 'NEW', subjects: ['new.>'], maxMsgs: 2, discard: 'new' });
      await m.publish('new.x', 'a');
      await m.publish('new.x', 'b');
      await assert.rejects(m.publish('new.x', 'c'));
      const sub = await m.subscribeOrdered({ stream: 'NEW', deliverPolicy: 'all' });
      assert.deepEqual(await readAll(sub), ['a', 'b']);
    });

    it('refuses a message above the 1 MiB max payload', async () => {
      await m.ensureStream({ name: 'BIG', subjects: ['big.>'] });
      await assert.rejects(m.publish('big.x', new Uint8Array(1024 * 1024 + 1)));
      assert.equal((await m.publish('big.x', new Uint8Array(512 * 1024))).duplicate, false);
    });

    it('a msgId is accepted again once the duplicate window has passed', async () => {
      await m.ensureStream({ name: 'WIN', subjects: ['win.>'], duplicateWindowMs: 1_000 });
      const first = await m.publish('win.x', 'a', { msgId: 'same' });
      assert.equal((await m.publish('win.x', 'a', { msgId: 'same' })).duplicate, true);
      await sleep(2_000);
      const later = await m.publish('win.x', 'a', { msgId: 'same' });
      assert.equal(later.duplicate, false);
      assert.ok(later.seq > first.seq);
    });

    it('maxAckPending bounds the unacknowledged messages a consumer hands out', async () => {
      await m.ensureStream({ name: 'MAP', subjects: ['map.>'] });
      await m.ensureConsumer({ stream: 'MAP', name: 'worker', maxAckPending: 2, ackWaitMs: 30_000 });
      for (let i = 0; i < 5; i++) await m.publish('map.x', `m${i}`);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const started: string[] = [];
      const stop = new AbortController();
      const done = m.consume({
        stream: 'MAP',
        consumer: 'worker',
        concurrency: 4,
        fetchExpiresMs: 1_000,
        signal: stop.signal,
        handler: async (msg): Promise<HandlerOutcome> => {
          started.push(msg.text());
          await gate;
          if (started.length >= 5) stop.abort();
          return 'ack';
        },
      });
      const deadline = Date.now() + 10_000;
      while (started.length < 2 && Date.now() < deadline) await sleep(20);
      await sleep(1_500);
      assert.deepEqual(started, ['m0', 'm1']);
      release();
      const stats = await done;
      assert.deepEqual(started, ['m0', 'm1', 'm2', 'm3', 'm4']);
      assert.equal(stats.acked, 5);
    });
  });
}
