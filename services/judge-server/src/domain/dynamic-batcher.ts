/**
 * Dynamic batching with a bounded queue. Items from concurrent callers wait in one FIFO queue;
 * a batch leaves as soon as `maxBatchSize` compatible items are waiting or the oldest has waited
 * `maxWaitMs`. Only one batch runs at a time (the model has one session), so the queue is the
 * only place work accumulates — and it is bounded: a submission that does not fit is refused
 * whole (`QueueFullError`) instead of growing memory. Items whose deadline passed, or whose
 * caller went away, are dropped before computing. Pure logic: the runner and the clock are
 * injected.
 */

/** Outcome of one submitted item. */
export type ItemOutcome<R> =
  | { readonly kind: 'ok'; readonly value: R }
  | { readonly kind: 'timeout'; readonly message: string }
  | { readonly kind: 'cancelled'; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

/** What the batch observer sees after each model call (tests and metrics). */
export interface BatchReport {
  readonly groupKey: string;
  readonly size: number;
  readonly durationMs: number;
  /** Items dropped for a passed deadline while this batch was formed. */
  readonly expired: number;
}

export interface BatcherOptions<I, R> {
  readonly maxBatchSize: number;
  readonly maxWaitMs: number;
  /** Most items waiting (not yet in a running batch). */
  readonly maxQueueItems: number;
  /** Runs one batch of same-group inputs; returns one result per input, in order. */
  readonly run: (groupKey: string, inputs: readonly I[]) => Promise<readonly R[]>;
  readonly now?: () => number;
  readonly onBatch?: (report: BatchReport) => void;
  readonly onQueueDepth?: (depth: number) => void;
}

export interface SubmitOptions {
  /** Epoch ms; an item still queued at this time is not computed (outcome `timeout`). */
  readonly deadlineMs?: number;
  /** Abort = the caller went away: its queued items are dropped (outcome `cancelled`). */
  readonly signal?: AbortSignal;
}

export interface SubmitItem<I> {
  readonly groupKey: string;
  readonly input: I;
}

export class QueueFullError extends Error {
  constructor(
    readonly requested: number,
    readonly queued: number,
    readonly capacity: number,
  ) {
    super(`judge queue full: ${queued} of ${capacity} items waiting, cannot accept ${requested} more`);
    this.name = 'QueueFullError';
  }
}

export interface DynamicBatcher<I, R> {
  /**
   * Enqueues all items or none (throws QueueFullError). Each promise resolves (never rejects)
   * with the item's outcome.
   */
  submit(items: readonly SubmitItem<I>[], options?: SubmitOptions): Promise<ItemOutcome<R>>[];
  readonly queueDepth: number;
  readonly capacity: number;
  /** Stops accepting; resolves once queued and running items are settled. */
  drain(): Promise<void>;
}

interface Pending<I, R> {
  readonly groupKey: string;
  readonly input: I;
  readonly enqueuedAtMs: number;
  readonly deadlineMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  settled: boolean;
  readonly resolve: (outcome: ItemOutcome<R>) => void;
}

export function createDynamicBatcher<I, R>(options: BatcherOptions<I, R>): DynamicBatcher<I, R> {
  const { maxBatchSize, maxWaitMs, maxQueueItems, run } = options;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError('maxBatchSize must be >= 1');
  if (!Number.isInteger(maxQueueItems) || maxQueueItems < 1)
    throw new RangeError('maxQueueItems must be >= 1');
  const now = options.now ?? Date.now;
  let queue: Pending<I, R>[] = [];
  let running = false;
  let draining = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let idle: (() => void) | undefined;
  // One abort listener per caller signal, however many items the caller submits (streams).
  const watchedSignals = new WeakSet<AbortSignal>();

  const reportDepth = (): void => options.onQueueDepth?.(queue.length);

  const settle = (p: Pending<I, R>, outcome: ItemOutcome<R>): void => {
    if (p.settled) return;
    p.settled = true;
    p.resolve(outcome);
  };

  /** Drops settled, cancelled and expired items; returns how many expired. */
  const prune = (): number => {
    const t = now();
    let expired = 0;
    const kept: Pending<I, R>[] = [];
    for (const p of queue) {
      if (p.settled) continue;
      if (p.signal?.aborted) {
        settle(p, { kind: 'cancelled', message: 'caller cancelled before the item was judged' });
      } else if (p.deadlineMs !== undefined && p.deadlineMs <= t) {
        expired++;
        settle(p, {
          kind: 'timeout',
          message: `deadline passed after ${t - p.enqueuedAtMs} ms in the queue`,
        });
      } else kept.push(p);
    }
    queue = kept;
    return expired;
  };

  const schedule = (): void => {
    if (running) return;
    const expired = prune();
    reportDepth();
    const head = queue[0];
    if (head === undefined) {
      idle?.();
      return;
    }
    const sameGroup = queue.filter((p) => p.groupKey === head.groupKey).length;
    const waitedMs = now() - head.enqueuedAtMs;
    if (sameGroup < maxBatchSize && waitedMs < maxWaitMs && !draining) {
      if (timer === undefined) {
        timer = setTimeout(
          () => {
            timer = undefined;
            schedule();
          },
          Math.max(0, maxWaitMs - waitedMs),
        );
      }
      return;
    }
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch: Pending<I, R>[] = [];
    const rest: Pending<I, R>[] = [];
    for (const p of queue) {
      if (batch.length < maxBatchSize && p.groupKey === head.groupKey) batch.push(p);
      else rest.push(p);
    }
    queue = rest;
    reportDepth();
    running = true;
    const startedMs = now();
    void run(
      head.groupKey,
      batch.map((p) => p.input),
    )
      .then(
        (results) => {
          if (results.length !== batch.length) {
            throw new Error(`batch runner returned ${results.length} results for ${batch.length} items`);
          }
          for (const [i, p] of batch.entries()) settle(p, { kind: 'ok', value: results[i]! });
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          for (const p of batch) settle(p, { kind: 'error', message: `judge failed: ${message}` });
        },
      )
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        for (const p of batch) settle(p, { kind: 'error', message });
      })
      .finally(() => {
        running = false;
        options.onBatch?.({
          groupKey: head.groupKey,
          size: batch.length,
          durationMs: now() - startedMs,
          expired,
        });
        schedule();
      });
  };

  return {
    submit(items, submitOptions = {}) {
      if (draining) throw new QueueFullError(items.length, queue.length, 0);
      prune();
      if (queue.length + items.length > maxQueueItems) {
        throw new QueueFullError(items.length, queue.length, maxQueueItems);
      }
      const enqueuedAtMs = now();
      const promises = items.map(
        (item) =>
          new Promise<ItemOutcome<R>>((resolve) => {
            queue.push({
              groupKey: item.groupKey,
              input: item.input,
              enqueuedAtMs,
              deadlineMs: submitOptions.deadlineMs,
              signal: submitOptions.signal,
              settled: false,
              resolve,
            });
          }),
      );
      const signal = submitOptions.signal;
      if (signal !== undefined && !watchedSignals.has(signal)) {
        watchedSignals.add(signal);
        const onAbort = (): void => {
          prune();
          reportDepth();
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
      reportDepth();
      schedule();
      return promises;
    },
    get queueDepth() {
      return queue.length;
    },
    capacity: maxQueueItems,
    async drain() {
      draining = true;
      if (!running && queue.length === 0) return;
      await new Promise<void>((resolve) => {
        idle = resolve;
        schedule();
      });
    },
  };
}
