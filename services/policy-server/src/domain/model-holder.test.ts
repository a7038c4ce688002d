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
});
