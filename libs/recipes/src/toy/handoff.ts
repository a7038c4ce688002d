/**
 * Promises a producer settles one by one, made before it starts, so a consumer can be wired to all
 * of them up front: the judge's training phases wait on the student's sample chunks this way and
 * start on the first chunk while the student samples the rest.
 */
export interface Handoff<T> {
  readonly items: readonly Promise<T>[];
  resolve(index: number, value: T): void;
  /** Rejects every item not yet resolved, so no consumer waits forever on a failed producer. */
  rejectRest(reason: unknown): void;
}

export function createHandoff<T>(count: number): Handoff<T> {
  const settlers: { resolve: (value: T) => void; reject: (reason: unknown) => void }[] = [];
  const items = Array.from({ length: count }, () => {
    const item = new Promise<T>((resolve, reject) => settlers.push({ resolve, reject }));
    // A consumer that failed first never awaits the rest; their rejection is not an unhandled one.
    item.catch(() => {});
    return item;
  });
  return {
    items,
    resolve(index, value) {
      const settler = settlers[index];
      if (settler === undefined) throw new RangeError(`handoff item ${index} of ${count}`);
      settler.resolve(value);
    },
    rejectRest(reason) {
      // Settling a settled promise is a no-op, so resolved items keep their values.
      for (const s of settlers) s.reject(reason);
    },
  };
}
