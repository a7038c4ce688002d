// A nats-server restart while a publish or an Object Store call is in flight: the client
// reconnects by itself, and the calls that are safe to repeat (a publish with a msgId, putBlob,
// getBlob) are retried across the outage instead of failing the caller's work.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectNats, isTransientNatsError, type Messaging } from '../src/messaging/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

let server: NatsServerHandle;
let messaging: Messaging;
let bare: Messaging;

// Short JetStream timeouts so an outage of 2.5 s is sure to time the first attempt out.
before(async () => {
  server = await startNatsServer();
  messaging = await connectNats({ servers: server.url, name: 'outage-test', jetstreamTimeoutMs: 1_000 });
  bare = await connectNats({
    servers: server.url,
    name: 'outage-test-no-retry',
    jetstreamTimeoutMs: 1_000,
    outageRetryMs: 0,
  });
  await messaging.ensureStream({ name: 'OUTAGE', subjects: ['outage.>'], duplicateWindowMs: 120_000 });
});

after(async () => {
  await messaging?.close();
  await bare?.close();
  await server?.stop();
});

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills nats-server now and starts it again (same port, same store) after `downMs`. */
function outage(downMs: number): Promise<void> {
  return (async () => {
    await server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, downMs));
    await server.restart();
  })();
}

describe('a nats-server restart during a call', () => {
  it('a publish with a msgId waits out the restart and is stored once; one without a msgId fails (a repeat could store it twice)', async () => {
    const restarted = outage(2_500);
    const [deduplicated, plain] = await Promise.allSettled([
      messaging.publish('outage.a', 'once', { msgId: 'outage-a-1' }),
      bare.publish('outage.a', 'plain'),
    ]);
    await restarted;
    assert.equal(deduplicated.status, 'fulfilled', String((deduplicated as PromiseRejectedResult).reason));
    assert.equal(plain.status, 'rejected');
    assert.ok(
      isTransientNatsError((plain as PromiseRejectedResult).reason),
      String((plain as PromiseRejectedResult).reason),
    );
    const again = await messaging.publish('outage.a', 'once', { msgId: 'outage-a-1' });
    assert.equal(again.duplicate, true);
    const info = await messaging.jetstreamManager.streams.info('OUTAGE', { subjects_filter: 'outage.a' });
    assert.equal(info.state.messages, 1, 'stored once');
  });

  it('putBlob and getBlob wait out the restart; without the retry budget the same put fails', async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    await messaging.putBlob('outage-bucket', 'warm', new Uint8Array([1])); // the bucket exists
    const restarted = outage(2_500);
    const [put, barePut] = await Promise.allSettled([
      messaging.putBlob('outage-bucket', 'w1', bytes),
      bare.putBlob('outage-bucket', 'w2', bytes),
    ]);
    await restarted;
    assert.equal(put.status, 'fulfilled', String((put as PromiseRejectedResult).reason));
    assert.equal(barePut.status, 'rejected');
    const read = outage(2_500);
    const got = await messaging.getBlob('outage-bucket', 'w1');
    await read;
    assert.deepEqual(got, bytes);
  });

  it('an ordered subscription (the policy-servers read weights announcements this way) resumes within seconds after a nats-server SIGKILL restart', async () => {
    await messaging.ensureStream({ name: 'OUTAGE_W', subjects: ['outagew.>'] });
    await messaging.publish('outagew.v', 'v1', { msgId: 'w1' });
    const sub = await messaging.subscribeOrdered({
      stream: 'OUTAGE_W',
      filterSubject: 'outagew.v',
      deliverPolicy: 'last',
    });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const m of sub) seen.push(m.text());
    })();
    try {
      await until(() => seen.includes('v1'), 10_000);
      // As in the chaos run: one announcement stored across the outage (the publish retries), the
      // next right after the server is back.
      const restarted = outage(1_500);
      await messaging.publish('outagew.v', 'v2', { msgId: 'w2' });
      await restarted;
      await messaging.publish('outagew.v', 'v3', { msgId: 'w3' });
      // Before the fix the client noticed the lost server-side consumer only after two missed
      // 15 s heartbeats (~30–40 s; a policy replica meanwhile nak'd the rollouts wanting these
      // weights until max-deliver dropped them). 15 s is a bound on a hang, not a speed claim.
      await until(() => seen.includes('v3'), 15_000);
      assert.deepEqual(seen, ['v1', 'v2', 'v3']);
    } finally {
      await sub.close();
      await reading;
    }
  });

  it('only outage errors are transient', () => {
    const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    assert.equal(isTransientNatsError(timeout), true);
    assert.equal(isTransientNatsError(new Error('wrapped', { cause: timeout })), true);
    assert.equal(
      isTransientNatsError(Object.assign(new Error('js'), { name: 'JetStreamApiError', code: 503 })),
      true,
    );
    assert.equal(
      isTransientNatsError(Object.assign(new Error('closed'), { name: 'ClosedConnectionError' })),
      false,
    );
    assert.equal(
      isTransientNatsError(Object.assign(new Error('no'), { name: 'PermissionViolationError' })),
      false,
    );
    assert.equal(isTransientNatsError('timeout'), false);
  });
});
