// Conformance, part 2 (same two transports as messaging-conformance.test.ts): blobs and their
// integrity errors, KV compare-and-set, ordered subscriptions, headers and trace hooks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  BlobIntegrityError,
  connectMessaging,
  disposeInMemoryBroker,
  type MessageHeaderHooks,
  type Messaging,
  type OrderedMessage,
  type OrderedSubscription,
  sha256Hex,
} from '../src/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

interface Transport {
  readonly name: string;
  setup(): Promise<void>;
  connect(name: string, headerHooks?: MessageHeaderHooks): Promise<Messaging>;
  teardown(): Promise<void>;
}

function natsTransport(): Transport {
  let server: NatsServerHandle | undefined;
  return {
    name: 'nats',
    async setup() {
      server = await startNatsServer();
    },
    connect: (name, headerHooks) =>
      connectMessaging({
        servers: server!.url,
        name,
        jetstreamTimeoutMs: 30_000,
        ...(headerHooks ? { headerHooks } : {}),
      }),
    teardown: async () => server?.stop(),
  };
}

function memoryTransport(): Transport {
  const brokerName = `conformance-state-${process.pid}`;
  return {
    name: 'memory',
    async setup() {},
    connect: (name, headerHooks) =>
      connectMessaging({ servers: `mem://${brokerName}`, name, ...(headerHooks ? { headerHooks } : {}) }),
    async teardown() {
      disposeInMemoryBroker(brokerName);
    },
  };
}

/** Reads `n` messages from an ordered subscription, then closes it. */
async function take(sub: OrderedSubscription, n: number): Promise<OrderedMessage[]> {
  const out: OrderedMessage[] = [];
  if (n > 0) {
    for await (const msg of sub) {
      out.push(msg);
      if (out.length >= n) break;
    }
  }
  await sub.close();
  return out;
}

const integrityReason = (reason: string) => (err: unknown) =>
  err instanceof BlobIntegrityError && err.reason === reason;

for (const transport of [natsTransport(), memoryTransport()]) {
  describe(`messaging conformance (state): ${transport.name}`, () => {
    let m: Messaging;
    before(async () => {
      await transport.setup();
      m = await transport.connect('conformance-state');
    });
    after(async () => {
      await m?.close();
      await transport.teardown();
    });

    it('blobs round-trip bytes above the max payload and verify size and checksum', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const info = await m.putBlob('conf-blobs', 'weights-v1.safetensors', data);
      assert.deepEqual(info, {
        bucket: 'conf-blobs',
        name: 'weights-v1.safetensors',
        size: data.length,
        sha256: sha256Hex(data),
      });
      const back = await m.getBlob('conf-blobs', 'weights-v1.safetensors', {
        expectedSha256: info.sha256,
        expectedSize: info.size,
      });
      assert.equal(Buffer.compare(Buffer.from(back), data), 0);
      // Without expectations the sha256 recorded at put time is checked.
      assert.equal((await m.getBlob('conf-blobs', 'weights-v1.safetensors')).length, data.length);
      await assert.rejects(
        m.getBlob('conf-blobs', 'weights-v1.safetensors', {
          expectedSha256: sha256Hex(Buffer.from('other')),
        }),
        integrityReason('checksum-mismatch'),
      );
      await assert.rejects(
        m.getBlob('conf-blobs', 'weights-v1.safetensors', { expectedSize: data.length - 1 }),
        integrityReason('size-mismatch'),
      );
      await assert.rejects(
        m.getBlob('conf-blobs', 'missing'),
        (err: unknown) =>
          integrityReason('not-found')(err) && (err as BlobIntegrityError).code === 'NOT_FOUND',
      );
      // A second put under the same name replaces the blob.
      const v2 = await m.putBlob('conf-blobs', 'weights-v1.safetensors', Buffer.from('tiny'));
      assert.equal(Buffer.from(await m.getBlob('conf-blobs', 'weights-v1.safetensors')).toString(), 'tiny');
      assert.equal(v2.size, 4);
    });

    it('small state: create once, compare-and-set update, delete, create again, keys', async () => {
      const kv = await m.smallState('conf-kv');
      assert.equal(await kv.create('run.status', 'starting'), true);
      assert.equal(await kv.create('run.status', 'again'), false);
      const first = await kv.get('run.status');
      assert.ok(first);
      assert.equal(Buffer.from(first.value).toString(), 'starting');
      assert.equal(await kv.update('run.status', 'running', first.revision), true);
      assert.equal(await kv.update('run.status', 'stale-writer', first.revision), false);
      const second = await kv.get('run.status');
      assert.equal(Buffer.from(second!.value).toString(), 'running');
      assert.ok(second!.revision > first.revision);
      const putRevision = await kv.put('weights.version', '7');
      assert.ok(putRevision > second!.revision);
      assert.deepEqual((await kv.keys()).sort(), ['run.status', 'weights.version']);
      await kv.delete('run.status');
      assert.equal(await kv.get('run.status'), undefined);
      assert.deepEqual(await kv.keys(), ['weights.version']);
      assert.equal(await kv.create('run.status', 'restarted'), true);
      assert.equal(await kv.get('missing'), undefined);
    });

    it('ordered subscriptions: from last (late joiner catches up), from all with pending, each reader sees all', async () => {
      await m.ensureStream({ name: 'CONF_WEIGHTS', subjects: ['conf.weights.>'] });
      for (const v of ['v1', 'v2', 'v3']) await m.publish('conf.weights.published', v);
      await m.publish('conf.weights.other', 'noise');

      const fromLast = await m.subscribeOrdered({
        stream: 'CONF_WEIGHTS',
        filterSubject: 'conf.weights.published',
        deliverPolicy: 'last',
      });
      const fromAll = await m.subscribeOrdered({
        stream: 'CONF_WEIGHTS',
        filterSubject: 'conf.weights.published',
        deliverPolicy: 'all',
      });
      const fromNew = await m.subscribeOrdered({
        stream: 'CONF_WEIGHTS',
        filterSubject: 'conf.weights.published',
        deliverPolicy: 'new',
      });
      const lastTwo = take(fromLast, 2);
      const allFour = take(fromAll, 4);
      const newOne = take(fromNew, 1);
      await new Promise((r) => setTimeout(r, 300));
      await m.publish('conf.weights.published', 'v4');
      const [last, all, fresh] = await Promise.all([lastTwo, allFour, newOne]);
      assert.deepEqual(
        last.map((x) => [x.text(), x.pending]),
        [
          ['v3', 0],
          ['v4', 0],
        ],
      );
      assert.deepEqual(
        all.map((x) => x.text()),
        ['v1', 'v2', 'v3', 'v4'],
      );
      assert.deepEqual(
        all.slice(0, 3).map((x) => x.pending),
        [2, 1, 0],
      );
      assert.ok(all.every((x, i) => i === 0 || x.streamSequence > (all[i - 1]?.streamSequence ?? 0)));
      assert.deepEqual(
        fresh.map((x) => x.text()),
        ['v4'],
      );
    });

    it('close() ends an ordered subscription that is waiting', async () => {
      await m.ensureStream({ name: 'CONF_IDLE', subjects: ['conf.idle.>'] });
      const sub = await m.subscribeOrdered({ stream: 'CONF_IDLE', deliverPolicy: 'new' });
      const reading = (async () => {
        const got: string[] = [];
        for await (const msg of sub) got.push(msg.text());
        return got;
      })();
      await new Promise((r) => setTimeout(r, 200));
      await sub.close();
      assert.deepEqual(await reading, []);
    });

    it('headers, msgId and trace hooks round-trip through publish and consume', async () => {
      const calls: string[] = [];
      const hooks: MessageHeaderHooks = {
        injectHeaders: (h) => h.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
        extractContext: (h) => ({ traceparent: h.get('traceparent') }),
        async tracePublish(subject, fn) {
          calls.push(`publish ${subject}`);
          return fn();
        },
        async traceConsume(delivery, fn) {
          calls.push(`consume ${delivery.subject} ${delivery.redelivered}`);
          return fn();
        },
      };
      const traced = await transport.connect('conformance-traced', hooks);
      try {
        await traced.ensureStream({ name: 'CONF_HDR', subjects: ['conf.hdr.>'] });
        await traced.ensureConsumer({ stream: 'CONF_HDR', name: 'reader' });
        await traced.publish('conf.hdr.x', 'payload', { msgId: 'hdr-1', headers: { 'x-run': 'run-9' } });
        const stop = new AbortController();
        let seen:
          | { headers: Record<string, string>; msgId: string | undefined; ctx: unknown; text: string }
          | undefined;
        const done = traced.consume({
          stream: 'CONF_HDR',
          consumer: 'reader',
          fetchExpiresMs: 1_000,
          signal: stop.signal,
          handler: (msg) => {
            seen = {
              headers: msg.headers.toRecord(),
              msgId: msg.msgId,
              ctx: msg.traceContext,
              text: msg.text(),
            };
            stop.abort();
            return 'ack';
          },
        });
        await done;
        assert.ok(seen);
        assert.equal(seen.text, 'payload');
        assert.equal(seen.msgId, 'hdr-1');
        assert.equal(seen.headers['x-run'], 'run-9');
        assert.equal(seen.headers['Nats-Msg-Id'], 'hdr-1');
        assert.deepEqual(seen.ctx, {
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        });
        assert.deepEqual(calls, ['publish conf.hdr.x', 'consume conf.hdr.x false']);
      } finally {
        await traced.close();
      }
      assert.equal(traced.isClosed(), true);
      await assert.rejects(traced.publish('conf.hdr.x', 'after close'));
    });
  });
}
