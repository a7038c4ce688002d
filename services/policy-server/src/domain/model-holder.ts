/**
 * The loaded weights version, swappable while requests run. A request takes a lease on the
 * current model when it is admitted and keeps generating with it until it releases the lease,
 * whatever is installed meanwhile; a replaced model is closed when its last lease is released.
 */
export interface ModelLease<M> {
  readonly model: M;
  readonly version: bigint;
  /** Idempotent. */
  release(): void;
}

export interface ModelHolder<M> {
  /** The installed version, or undefined before the first install. */
  readonly version: bigint | undefined;
  readonly model: M | undefined;
  /** Leases the installed model, or returns undefined when none is installed (or after close). */
  acquire(): ModelLease<M> | undefined;
  /**
   * Makes `model` current. The previous model stays alive for its leases and is closed after the
   * last one is released (at once when it has none).
   */
  install(model: M, version: bigint): void;
  /**
   * Resolves true once a version >= `version` is installed (at once when one is), false after
   * `timeoutMs` or on close. A rollout that wants weights still being loaded waits here instead of
   * polling redelivery, so it starts the moment they are installed.
   */
  waitForVersion(version: bigint, timeoutMs: number): Promise<boolean>;
  /** Models replaced or closed but still leased. */
  readonly retiring: number;
  /** Refuses new leases; closes every model once its leases are released. */
  close(): Promise<void>;
}

export interface ModelHolderOptions<M> {
  readonly closeModel: (model: M) => Promise<void>;
  /** A failed close is reported here and otherwise ignored (the model is gone either way). */
  readonly onCloseError?: (error: unknown, version: bigint) => void;
}

interface Slot<M> {
  readonly model: M;
  readonly version: bigint;
  leases: number;
  retired: boolean;
  closing?: Promise<void>;
  /** Resolves once the model is closed. */
  readonly closed: Promise<void>;
  readonly markClosed: () => void;
}

function createSlot<M>(model: M, version: bigint): Slot<M> {
  let markClosed = () => {};
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  return { model, version, leases: 0, retired: false, closed, markClosed };
}

export function createModelHolder<M>(options: ModelHolderOptions<M>): ModelHolder<M> {
  let current: Slot<M> | undefined;
  const retiring = new Set<Slot<M>>();
  let closed = false;
  const waiters = new Set<{ readonly version: bigint; readonly settle: (installed: boolean) => void }>();

  function wakeWaiters(): void {
    for (const w of waiters) {
      if (closed) w.settle(false);
      else if (current !== undefined && current.version >= w.version) w.settle(true);
    }
  }

  function closeSlot(slot: Slot<M>): Promise<void> {
    slot.closing ??= options
      .closeModel(slot.model)
      .catch((error: unknown) => options.onCloseError?.(error, slot.version))
      .finally(() => {
        retiring.delete(slot);
        slot.markClosed();
      });
    return slot.closing;
  }

  function retire(slot: Slot<M>): void {
    slot.retired = true;
    retiring.add(slot);
    if (slot.leases === 0) void closeSlot(slot);
  }

  return {
    get version() {
      return current?.version;
    },
    get model() {
      return current?.model;
    },
    get retiring() {
      return retiring.size;
    },
    acquire() {
      const slot = current;
      if (slot === undefined || closed) return undefined;
      slot.leases++;
      let released = false;
      return {
        model: slot.model,
        version: slot.version,
        release() {
          if (released) return;
          released = true;
          slot.leases--;
          if (slot.retired && slot.leases === 0) void closeSlot(slot);
        },
      };
    },
    install(model: M, version: bigint) {
      if (closed) throw new Error('model holder is closed');
      const previous = current;
      current = createSlot(model, version);
      if (previous !== undefined) retire(previous);
      wakeWaiters();
    },
    waitForVersion(version: bigint, timeoutMs: number) {
      if (closed) return Promise.resolve(false);
      if (current !== undefined && current.version >= version) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const waiter = {
          version,
          settle(installed: boolean) {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(installed);
          },
        };
        const timer = setTimeout(() => waiter.settle(false), Math.max(0, timeoutMs));
        waiters.add(waiter);
      });
    },
    async close() {
      closed = true;
      wakeWaiters();
      if (current !== undefined) retire(current);
      current = undefined;
      // Leased models close when their last lease goes; wait for those already closing.
      await Promise.all([...retiring].map((s) => s.closed));
    },
  };
}
