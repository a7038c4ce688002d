import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createModelHolder } from './model-holder.js';

describe('createModelHolder', () => {
  it('keeps a replaced model alive for its leases and closes it after the last release', async () => {
    const closed: string[] = [];
    const h = createModelHolder<string>({ closeModel: async (m) => void closed.push(m) });
    assert.equal(h.acquire(), undefined, 'nothing to lease before the first install');
    h.install('v1', 1n);
    const a = h.acquire()!;
    const b = h.acquire()!;
    h.install('v2', 2n);
    assert.equal(h.version, 2n);
    assert.equal(a.model, 'v1');
    assert.equal(a.version, 1n);
    const c = h.acquire()!;
    assert.equal(c.version, 2n, 'new leases get the new model');
    a.release();
    a.release();
    await Promise.resolve();
    assert.deepEqual(closed, [], 'v1 still leased by b (double release is ignored)');
    assert.equal(h.retiring, 1);
    b.release();
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(closed, ['v1']);
    assert.equal(h.retiring, 0);
    c.release();
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(closed, ['v1'], 'the current model is not closed when idle');
    await h.close();
    assert.deepEqual(closed, ['v1', 'v2']);
  });

  it('closes an unleased replaced model at once, and close() waits for leased ones', async () => {
    const closed: string[] = [];
    const h = createModelHolder<string>({ closeModel: async (m) => void closed.push(m) });
    h.install('v0', 0n);
    h.install('v1', 1n);
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(closed, ['v0']);
    const lease = h.acquire()!;
    let done = false;
    const closing = h.close().then(() => (done = true));
    assert.equal(h.acquire(), undefined, 'no leases after close');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(done, false);
    lease.release();
    await closing;
    assert.deepEqual(closed, ['v0', 'v1']);
  });

  it('waitForVersion wakes waiters on the install that reaches their version, else at timeout or close', async () => {
    const h = createModelHolder<string>({ closeModel: async () => {} });
    h.install('v1', 1n);
    assert.equal(await h.waitForVersion(1n, 0), true, 'an installed version answers at once');
    const wants2 = h.waitForVersion(2n, 10_000);
    const wants3 = h.waitForVersion(3n, 10_000);
    const timesOut = h.waitForVersion(5n, 5);
    const t0 = performance.now();
    h.install('v2', 2n);
    assert.equal(await wants2, true);
    assert.ok(performance.now() - t0 < 1_000, 'woken by the install, not by its timeout');
    assert.equal(await timesOut, false);
    const closing = h.close();
    assert.equal(await wants3, false, 'close releases the waiters');
    await closing;
    assert.equal(await h.waitForVersion(1n, 10_000), false, 'a closed holder has nothing to wait for');
  });
});
