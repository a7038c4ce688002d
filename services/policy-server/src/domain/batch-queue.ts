/**
 * Dynamic batching: sequences from concurrent callers wait here and are handed to `run` in
 * groups. A group is formed from the oldest waiting item's key (items with another key never
 * share a batch) and holds at most `maxBatchSize` items; it starts as soon as it is full, or when
 * its oldest item has waited `maxWaitMs`. One batch runs at a time per queue: the model executes
 * one graph run at a time anyway, and rows that arrive meanwhile join the next batch.
 */
export interface BatchQueueOptions<T> {
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
  /** Items with different keys never share a batch (e.g. different weights versions). */
  readonly keyOf?: (item: T) => string;
  /** Items for which this is true when a batch forms are dropped (cancelled callers)... */
  readonly isCancelled?: (item: T) => boolean;
  /** ...and handed here, so their owner can settle them. */
  readonly onDropped?: (item: T) => void;
  /** Runs one batch. A rejection is reported to `onBatchError`; the items are the caller's to settle. */
  readonly run: (batch: T[]) => Promise<void>;
  readonly onBatchError?: (error: unknown, batch: readonly T[]) => void;
  /** Clock and timer hooks for tests; default Date.now / setTimeout. */
  readonly now?: () => number;
}

export interface BatchQueue<T> {
  /** Queues items; they keep their order. */
  push(...items: T[]): void;
  /** Items waiting (not yet in a batch). */
  readonly waiting: number;
  /** Whether a batch is running. */
  readonly busy: boolean;
  /** Stops forming batches; resolves when the running batch is done. Returns the items left waiting. */
  close(): Promise<T[]>;
}

interface Entry<T> {
  readonly item: T;
  readonly key: string;
  readonly enqueuedAt: number;
}

export function createBatchQueue<T>(options: BatchQueueOptions<T>): BatchQueue<T> {
  const { maxBatchSize, maxWaitMs } = options;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new RangeError(`maxBatchSize must be an integer >= 1 (got ${maxBatchSize})`);
  }
  if (!(maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0 (got ${maxWaitMs})`);
  const now = options.now ?? Date.now;
  const keyOf = options.keyOf ?? (() => '');
  const isCancelled = options.isCancelled ?? (() => false);
  let entries: Entry<T>[] = [];
  let running: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function dropCancelled(): void {
    const dropped = entries.filter((e) => isCancelled(e.item));
    if (dropped.length === 0) return;
    entries = entries.filter((e) => !dropped.includes(e));
    for (const e of dropped) options.onDropped?.(e.item);
  }

  function schedule(): void {
    if (closed || running !== undefined) return;
    dropCancelled();
    const oldest = entries[0];
    if (oldest === undefined) return;
    const sameKey = entries.filter((e) => e.key === oldest.key);
    const waitedMs = now() - oldest.enqueuedAt;
    if (sameKey.length < maxBatchSize && waitedMs < maxWaitMs) {
      if (timer === undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          schedule();
        }, maxWaitMs - waitedMs);
      }
      return;
    }
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const taken = new Set(sameKey.slice(0, maxBatchSize));
    entries = entries.filter((e) => !taken.has(e));
    const batch = [...taken].map((e) => e.item);
    running = (async () => {
      try {
        await options.run(batch);
      } catch (error) {
        options.onBatchError?.(error, batch);
      }
    })().finally(() => {
      running = undefined;
      schedule();
    });
  }

  return {
    push(...items: T[]) {
      if (closed) throw new Error('batch queue is closed');
      const t = now();
      for (const item of items) entries.push({ item, key: keyOf(item), enqueuedAt: t });
      schedule();
    },
    get waiting() {
      return entries.length;
    },
    get busy() {
      return running !== undefined;
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running;
      const left = entries.map((e) => e.item);
      entries = [];
      return left;
    },
  };
}
