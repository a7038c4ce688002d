import type { KV, Kvm } from '@nats-io/kv';

/** Small shared state (run status, current weights version) in a JetStream KV bucket. */
export interface SmallState {
  readonly bucket: string;
  get(key: string): Promise<{ value: Uint8Array; revision: number } | undefined>;
  put(key: string, value: Uint8Array | string): Promise<number>;
  /** Writes only when the key is absent; returns false when it already exists. */
  create(key: string, value: Uint8Array | string): Promise<boolean>;
  /** Compare-and-set on the revision from `get`; returns false when someone wrote in between. */
  update(key: string, value: Uint8Array | string, revision: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

// Conditional writes fail with "wrong last sequence" (JetStream API code 10071).
function isWrongLastSequence(err: unknown): boolean {
  return err instanceof Error && /wrong last sequence/i.test(err.message);
}

export async function openSmallState(kvm: Kvm, bucket: string, historyDepth = 1): Promise<SmallState> {
  const kv: KV = await kvm.create(bucket, { history: historyDepth });
  return {
    bucket,
    async get(key) {
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== 'PUT') return undefined;
      return { value: entry.value, revision: entry.revision };
    },
    put: (key, value) => kv.put(key, value),
    async create(key, value) {
      try {
        await kv.create(key, value);
        return true;
      } catch (err) {
        if (isWrongLastSequence(err)) return false;
        throw err;
      }
    },
    async update(key, value, revision) {
      try {
        await kv.update(key, value, revision);
        return true;
      } catch (err) {
        if (isWrongLastSequence(err)) return false;
        throw err;
      }
    },
    delete: (key) => kv.delete(key),
    async keys() {
      const out: string[] = [];
      for await (const key of await kv.keys()) out.push(key);
      return out;
    },
  };
}
