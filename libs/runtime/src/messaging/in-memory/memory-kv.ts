import { VerdictError } from '../../errors/index.js';
import type { SmallState } from '../small-state.js';

const KEY_PATTERN = /^[-/_=.a-zA-Z0-9]+$/;

interface Entry {
  value: Uint8Array | undefined;
  revision: number;
}

function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : Uint8Array.from(value);
}

function checkKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.startsWith('.') || key.endsWith('.')) {
    throw new VerdictError('INVALID_ARGUMENT', `invalid key ${JSON.stringify(key)}`, { field: 'key' });
  }
}

/**
 * A KV bucket with JetStream KV's revision rules: one revision counter per bucket, deletes
 * leave a tombstone (so `create` may write a deleted key again), `update` is compare-and-set.
 */
export function createMemoryKv(bucket: string): SmallState {
  const entries = new Map<string, Entry>();
  let revision = 0;
  const write = (key: string, value: Uint8Array | undefined): number => {
    revision++;
    entries.set(key, { value, revision });
    return revision;
  };
  return {
    bucket,
    async get(key) {
      checkKey(key);
      const entry = entries.get(key);
      if (entry?.value === undefined) return undefined;
      return { value: Uint8Array.from(entry.value), revision: entry.revision };
    },
    async put(key, value) {
      checkKey(key);
      return write(key, toBytes(value));
    },
    async create(key, value) {
      checkKey(key);
      if (entries.get(key)?.value !== undefined) return false;
      write(key, toBytes(value));
      return true;
    },
    async update(key, value, expectedRevision) {
      checkKey(key);
      if (entries.get(key)?.revision !== expectedRevision) return false;
      write(key, toBytes(value));
      return true;
    },
    async delete(key) {
      checkKey(key);
      write(key, undefined);
    },
    async keys() {
      return [...entries].filter(([, e]) => e.value !== undefined).map(([k]) => k);
    },
  };
}
