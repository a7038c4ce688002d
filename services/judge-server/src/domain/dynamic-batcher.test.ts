import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDynamicBatcher, QueueFullError } from './dynamic-batcher.js';

/** A runner whose calls stay pending until the test resolves them. */
function controlledRunner() {
  const calls: Array<{ key: string; inputs: readonly number[]; finish: (fail?: Error) => void }> = [];
  const run = (key: string, inputs: readonly number[]) =>
    new Promise<number[]>((resolve, reject) => {
      calls.push({
        key,
        inputs,
        finish: (fail) => (fail ? reject(fail) : resolve(inputs.map((x) => x * 10))),
      });
    });
  return { calls, run };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits (without a timing assumption) until the runner has been called `n` times. */
async function calledTimes(r: { calls: unknown[] }, n: number): Promise<void> {
  while (r.calls.length < n) await tick(1);
}
const items = (key: string, ...xs: number[]) => xs.map((input) => ({ groupKey: key, input }));

describe('createDynamicBatcher', () => {
  it('coalesces submissions that arrive while a batch runs, up to maxBatchSize', async () => {
    const r = controlledRunner();
    const b = createDynamicBatcher({ maxBatchSize: 3, maxWaitMs: 1, maxQueueItems: 10, run: r.run });
    const first = b.submit(items('k', 1));
    await calledTimes(r, 1);
    assert.equal(r.calls.length, 1);
    const second = [...b.submit(items('k', 2, 3)), ...b.submit(items('k', 4, 5))];
    assert.equal(b.queueDepth, 4);
    r.calls[0]!.finish();
    await calledTimes(r, 2);
    assert.deepEqual(r.calls[1]!.inputs, [2, 3, 4]);
    r.calls[1]!.finish();
    await calledTimes(r, 3);
    assert.deepEqual(r.calls[2]!.inputs, [5]);
    r.calls[2]!.finish();
    const outcomes = await Promise.all([...first, ...second]);
    assert.deepEqual(
      outcomes.map((o) => (o.kind === 'ok' ? o.value : o.kind)),
      [10, 20, 30, 40, 50],
    );
  });

  it('refuses a submission that does not fit whole, and keeps serving the rest', async () => {
    const r = controlledRunner();
    const b = createDynamicBatcher({ maxBatchSize: 8, maxWaitMs: 1, maxQueueItems: 3, run: r.run });
    const running = b.submit(items('k', 1));
    await calledTimes(r, 1);
    const queued = b.submit(items('k', 2, 3));
    assert.throws(() => b.submit(items('k', 4, 5)), QueueFullError);
    assert.equal(b.queueDepth, 2, 'nothing of the refused submission was queued');
    r.calls[0]!.finish();
    await calledTimes(r, 2);
    r.calls[1]!.finish();
    assert.deepEqual(
      (await Promise.all([...running, ...queued])).map((o) => o.kind),
      ['ok', 'ok', 'ok'],
    );
  });

  it('drops items whose deadline passed or whose caller cancelled, without computing them', async () => {
    const r = controlledRunner();
    const b = createDynamicBatcher({ maxBatchSize: 8, maxWaitMs: 1, maxQueueItems: 10, run: r.run });
    const running = b.submit(items('k', 1));
    await calledTimes(r, 1);
    const [late] = b.submit(items('k', 2), { deadlineMs: Date.now() + 10 });
    const abort = new AbortController();
    const [gone] = b.submit(items('k', 3), { signal: abort.signal });
    const [kept] = b.submit(items('k', 4));
    abort.abort();
    assert.equal((await gone!).kind, 'cancelled');
    await tick(20);
    r.calls[0]!.finish();
    await calledTimes(r, 2);
    assert.deepEqual(r.calls[1]!.inputs, [4]);
    r.calls[1]!.finish();
    assert.equal((await late!).kind, 'timeout');
    assert.equal((await kept!).kind, 'ok');
    await Promise.all(running);
  });

  it('batches by group key and turns a failed model call into error outcomes', async () => {
    const r = controlledRunner();
    // A manual clock: on a loaded machine a real millisecond can pass between two submits,
    // which would (correctly) send 'a' 1 alone before 'a' 3 arrives.
    let clockMs = 0;
    const b = createDynamicBatcher({
      maxBatchSize: 8,
      maxWaitMs: 1,
      maxQueueItems: 10,
      run: r.run,
      now: () => clockMs,
    });
    const out = [...b.submit(items('a', 1)), ...b.submit(items('b', 2)), ...b.submit(items('a', 3))];
    assert.equal(r.calls.length, 0, 'nothing runs before the oldest item has waited maxWaitMs');
    clockMs = 5;
    await calledTimes(r, 1);
    assert.deepEqual([r.calls[0]!.key, r.calls[0]!.inputs], ['a', [1, 3]]);
    r.calls[0]!.finish(new Error('boom'));
    await calledTimes(r, 2);
    assert.deepEqual([r.calls[1]!.key, r.calls[1]!.inputs], ['b', [2]]);
    r.calls[1]!.finish();
    const outcomes = await Promise.all(out);
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['error', 'ok', 'error'],
    );
    assert.match(outcomes[0]!.kind === 'error' ? outcomes[0]!.message : '', /boom/);
  });

  it('drain runs what is queued at once and then refuses new work', async () => {
    const r = controlledRunner();
    const b = createDynamicBatcher({ maxBatchSize: 8, maxWaitMs: 10_000, maxQueueItems: 10, run: r.run });
    const [p] = b.submit(items('k', 1));
    const drained = b.drain();
    await calledTimes(r, 1);
    r.calls[0]!.finish();
    await drained;
    assert.equal((await p!).kind, 'ok');
    assert.throws(() => b.submit(items('k', 2)), QueueFullError);
  });
});
