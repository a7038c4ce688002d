import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBatchQueue } from './batch-queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createBatchQueue', () => {
  it('coalesces items pushed while a batch runs into the next batch, up to maxBatchSize', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const q = createBatchQueue<number>({
      maxBatchSize: 3,
      maxWaitMs: 1,
      run: async (b) => {
        batches.push(b);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
      },
    });
    q.push(0);
    await tick(10);
    assert.deepEqual(batches, [[0]]);
    q.push(1, 2);
    q.push(3);
    q.push(4);
    assert.equal(q.waiting, 4);
    release();
    await tick(20);
    assert.deepEqual(batches, [[0], [1, 2, 3], [4]]);
    await q.close();
  });

  it('starts a full batch at once and a partial one after maxWaitMs', async () => {
    const batches: string[][] = [];
    const q = createBatchQueue<string>({
      maxBatchSize: 2,
      maxWaitMs: 60_000,
      run: async (b) => void batches.push(b),
    });
    q.push('a', 'b', 'c');
    await tick(5);
    assert.deepEqual(batches, [['a', 'b']], 'full batch runs without waiting; c waits for company');
    assert.equal(q.waiting, 1);
    const left = await q.close();
    assert.deepEqual(left, ['c']);
  });

  it('never mixes keys in a batch and serves the oldest key first', async () => {
    const batches: string[][] = [];
    const q = createBatchQueue<string>({
      maxBatchSize: 8,
      maxWaitMs: 5,
      keyOf: (s) => s[0]!,
      run: async (b) => void batches.push(b),
    });
    q.push('a1', 'b1', 'a2', 'b2', 'a3');
    await tick(40);
    assert.deepEqual(batches, [
      ['a1', 'a2', 'a3'],
      ['b1', 'b2'],
    ]);
    await q.close();
  });

  it('drops cancelled items and hands them back', async () => {
    const batches: number[][] = [];
    const dropped: number[] = [];
    const q = createBatchQueue<number>({
      maxBatchSize: 4,
      maxWaitMs: 5,
      isCancelled: (n) => n % 2 === 1,
      onDropped: (n) => dropped.push(n),
      run: async (b) => void batches.push(b),
    });
    q.push(0, 1, 2, 3);
    await tick(30);
    assert.deepEqual(batches, [[0, 2]]);
    assert.deepEqual(dropped, [1, 3]);
    await q.close();
  });

  it('reports a failed batch and keeps going', async () => {
    const errors: unknown[] = [];
    const ran: number[][] = [];
    const q = createBatchQueue<number>({
      maxBatchSize: 1,
      maxWaitMs: 0,
      run: async (b) => {
        ran.push(b);
        if (b[0] === 0) throw new Error('boom');
      },
      onBatchError: (e) => errors.push(e),
    });
    q.push(0, 1);
    await tick(20);
    assert.deepEqual(ran, [[0], [1]]);
    assert.equal(errors.length, 1);
    await q.close();
  });
});
