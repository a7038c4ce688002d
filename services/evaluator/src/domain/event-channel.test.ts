import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEventChannel } from './event-channel.js';

test('yields pushed items in order, including those pushed while the consumer waits, then ends', async () => {
  const ch = createEventChannel<number>();
  ch.push(1);
  const seen: number[] = [];
  const consumer = (async () => {
    for await (const x of ch) seen.push(x);
  })();
  await new Promise((r) => setImmediate(r));
  ch.push(2);
  ch.push(3);
  ch.close();
  ch.push(4); // after close: dropped
  await consumer;
  assert.deepEqual(seen, [1, 2, 3]);
});

test('fail() delivers queued items first, then throws', async () => {
  const ch = createEventChannel<string>();
  ch.push('a');
  ch.fail(new Error('boom'));
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const x of ch) seen.push(x);
  }, /boom/);
  assert.deepEqual(seen, ['a']);
});
