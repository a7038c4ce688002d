/**
 * A single-consumer async queue: producers push synchronously (from decode callbacks), the
 * consumer iterates with `for await`. `end(error?)` finishes the iteration (rethrowing the error
 * after the values already queued). Breaking out of the loop calls `onReturn`.
 */
export interface AsyncChannel<T> extends AsyncIterable<T> {
  push(value: T): void;
  end(error?: unknown): void;
  readonly ended: boolean;
}

export function createAsyncChannel<T>(onReturn?: () => void): AsyncChannel<T> {
  const buffer: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;

  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  return {
    get ended() {
      return ended;
    },
    push(value) {
      if (ended) return;
      buffer.push(value);
      notify();
    },
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) failure = { error };
      notify();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          while (buffer.length > 0) yield buffer.shift()!;
          if (ended) {
            if (failure !== undefined) throw failure.error;
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        if (!ended || buffer.length > 0) onReturn?.();
      }
    },
  };
}
