import type { MessageHeaders } from '../headers.js';

/** MessageHeaders over a Map (the in-memory twin of the NATS header wrapper). */
export function createMemoryHeaders(source?: Iterable<[string, string]>): MessageHeaders & {
  entries(): [string, string][];
} {
  const map = new Map<string, string>(source);
  return {
    get: (name) => map.get(name),
    set(name, value) {
      map.set(name, value);
    },
    has: (name) => map.has(name),
    keys: () => [...map.keys()],
    toRecord: () => Object.fromEntries(map),
    entries: () => [...map.entries()],
  };
}
