import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRerankGroups, type GroupEnd } from './rerank-groups.js';

function recorder(fail = false) {
  const flushed: Array<{ groupId: string; ids: string[]; end: GroupEnd['kind'] }> = [];
  const groups = createRerankGroups<number>({
    timeoutMs: 50,
    flush: async (groupId, members, end) => {
      flushed.push({ groupId, ids: members.map((m) => m.id), end: end.kind });
      if (fail) throw new Error('publish failed');
    },
  });
  return { groups, flushed };
}

describe('createRerankGroups', () => {
  it('releases a group once all its members are held, then every member may ack', async () => {
    const { groups, flushed } = recorder();
    const a = groups.hold('g', 3, { id: 'a', value: 1 });
    const other = groups.hold('h', 2, { id: 'x', value: 9 });
    const b = groups.hold('g', 3, { id: 'b', value: 2 });
    assert.equal(flushed.length, 0);
    assert.equal(groups.heldCount, 3);
    const c = groups.hold('g', 3, { id: 'c', value: 3 });
    assert.deepEqual(await Promise.all([a, b, c]), ['published', 'published', 'published']);
    assert.deepEqual(flushed, [{ groupId: 'g', ids: ['a', 'b', 'c'], end: 'complete' }]);
    groups.close();
    assert.equal(await other, 'released');
  });

  it('a redelivered member waits on the same publish and is not counted twice', async () => {
    const { groups, flushed } = recorder();
    const first = groups.hold('g', 2, { id: 'a', value: 1 });
    const again = groups.hold('g', 2, { id: 'a', value: 1 });
    assert.equal(flushed.length, 0, 'one distinct member of two');
    const b = groups.hold('g', 2, { id: 'b', value: 2 });
    assert.deepEqual(await Promise.all([first, again, b]), ['published', 'published', 'published']);
    assert.deepEqual(flushed[0]?.ids, ['a', 'b']);
  });

  it('an incomplete group is flushed as a timeout with the members present', async () => {
    const { groups, flushed } = recorder();
    const held = [groups.hold('g', 4, { id: 'a', value: 1 }), groups.hold('g', 4, { id: 'b', value: 2 })];
    assert.deepEqual(await Promise.all(held), ['published', 'published']);
    assert.deepEqual(flushed, [{ groupId: 'g', ids: ['a', 'b'], end: 'timeout' }]);
    assert.equal(groups.heldCount, 0);
    // A late member opens a fresh group (published on its own later, never dropped).
    const late = groups.hold('g', 4, { id: 'c', value: 3 });
    assert.equal(await late, 'published');
    assert.deepEqual(flushed[1], { groupId: 'g', ids: ['c'], end: 'timeout' });
  });

  it('a failed flush rejects every waiting member (they are nak’d and redelivered)', async () => {
    const { groups } = recorder(true);
    const a = groups.hold('g', 2, { id: 'a', value: 1 });
    const b = groups.hold('g', 2, { id: 'b', value: 2 });
    await assert.rejects(a, /publish failed/);
    await assert.rejects(b, /publish failed/);
  });

  it('close releases held members unpublished, and later holds at once', async () => {
    const { groups, flushed } = recorder();
    const a = groups.hold('g', 2, { id: 'a', value: 1 });
    groups.close();
    assert.equal(await a, 'released');
    assert.equal(await groups.hold('g', 1, { id: 'z', value: 0 }), 'released');
    assert.equal(flushed.length, 0);
    assert.equal(groups.heldCount, 0);
  });
});
