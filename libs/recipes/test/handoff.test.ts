import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHandoff } from '../src/toy/handoff.js';

describe('createHandoff', () => {
  it('each item settles when the producer resolves it, in any order', async () => {
    const h = createHandoff<string>(3);
    const seen: string[] = [];
    const all = h.items.map((p) => p.then((v) => seen.push(v)));
    h.resolve(1, 'b');
    await h.items[1];
    assert.deepEqual(seen, ['b']);
    h.resolve(0, 'a');
    h.resolve(2, 'c');
    await Promise.all(all);
    assert.deepEqual(seen, ['b', 'a', 'c']);
  });

  it('rejectRest fails the pending items and keeps the resolved ones', async () => {
    const h = createHandoff<number>(3);
    h.resolve(0, 7);
    h.rejectRest(new Error('student failed'));
    assert.equal(await h.items[0], 7);
    await assert.rejects(h.items[1]!, /student failed/);
    await assert.rejects(h.items[2]!, /student failed/);
  });

  it('items nobody awaits reject without an unhandled rejection', async () => {
    let unhandled = 0;
    const count = () => unhandled++;
    process.on('unhandledRejection', count);
    try {
      createHandoff<number>(2).rejectRest(new Error('nobody listens'));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(unhandled, 0);
    } finally {
      process.off('unhandledRejection', count);
    }
  });

  it('resolving an index out of range is an error', () => {
    assert.throws(() => createHandoff<number>(2).resolve(2, 0), /handoff item 2 of 2/);
  });
});
