import { VerdictError } from '../../errors/index.js';
import type { SmallState } from '../small-state.js';
import type { ConsumerSpec, EnsureResult, StreamSpec } from '../streams.js';
import { createMemoryBlobStore, type MemoryBlobStore } from './memory-blobs.js';
import { consumerNotFound, MemoryConsumer, resolveConsumerSpec } from './memory-consumer.js';
import { createMemoryKv } from './memory-kv.js';
import { MemoryStream, resolveStreamSpec } from './memory-stream.js';
import { assertPublishSubject, subjectsOverlap } from './subjects.js';

export interface BrokerPublish {
  subject: string;
  data: Uint8Array;
  headers: [string, string][];
  msgId: string | undefined;
  expectLastSequence: number | undefined;
}

/**
 * In-process JetStream: streams, durable pull consumers, an object store and KV buckets shared
 * by every `Messaging` connected to it (the embedded stack when no nats-server is installed).
 * Nothing is persisted: a broker lives as long as its process.
 */
export interface InMemoryBroker {
  readonly name: string;
  readonly blobs: MemoryBlobStore;
  ensureStream(spec: StreamSpec): EnsureResult;
  ensureConsumer(spec: ConsumerSpec): EnsureResult;
  stream(name: string): MemoryStream;
  consumer(stream: string, name: string): MemoryConsumer;
  deleteConsumer(stream: string, name: string): boolean;
  /** Appends to the stream whose subjects match; `NOT_FOUND` when none does (no responders). */
  publish(p: BrokerPublish): { stream: string; seq: number; duplicate: boolean };
  smallState(bucket: string): SmallState;
  /** Drops every stream, consumer, blob and bucket and stops their timers. */
  reset(): void;
}

const STREAM_NAME = /^[^.*>\s/\\]+$/;

/** Fields nats-server refuses to change on a live stream. */
const IMMUTABLE_STREAM_FIELDS = ['retention', 'storage'] as const;
const ALWAYS_DECLARED: ReadonlySet<string> = new Set([
  'subjects',
  'retention',
  'storage',
  'discard',
  'replicas',
]);

export function createInMemoryBroker(name = 'default'): InMemoryBroker {
  const streams = new Map<string, MemoryStream>();
  const consumers = new Map<string, Map<string, MemoryConsumer>>();
  const kvs = new Map<string, SmallState>();
  let blobs = createMemoryBlobStore();

  const getStream = (stream: string): MemoryStream => {
    const s = streams.get(stream);
    if (s === undefined) throw new VerdictError('NOT_FOUND', `stream ${stream} not found`);
    return s;
  };

  return {
    name,
    get blobs() {
      return blobs;
    },
    ensureStream(spec) {
      if (spec.subjects.length === 0) {
        throw new VerdictError('INVALID_ARGUMENT', `ensureStream(${spec.name}): subjects must not be empty`, {
          field: 'subjects',
        });
      }
      if (!STREAM_NAME.test(spec.name)) {
        throw new VerdictError('INVALID_ARGUMENT', `invalid stream name ${JSON.stringify(spec.name)}`, {
          field: 'name',
        });
      }
      for (const [other, s] of streams) {
        if (other === spec.name) continue;
        const clash = spec.subjects.find((a) => s.config.subjects.some((b) => subjectsOverlap(a, b)));
        if (clash !== undefined) {
          throw new VerdictError(
            'FAILED_PRECONDITION',
            `ensureStream(${spec.name}): subjects overlap with stream ${other} (${clash})`,
            { field: 'subjects' },
          );
        }
      }
      const want = resolveStreamSpec(spec);
      const existing = streams.get(spec.name);
      if (existing === undefined) {
        streams.set(spec.name, new MemoryStream(want));
        consumers.set(spec.name, new Map());
        return { created: true, updated: false };
      }
      const have = existing.config;
      // As on NATS: retention, storage, discard and replicas are always declared (defaults
      // included); the limits only when the spec sets them.
      const changed = (Object.keys(want) as (keyof typeof want)[]).filter(
        (key) =>
          (ALWAYS_DECLARED.has(key) || spec[key] !== undefined) &&
          JSON.stringify(want[key]) !== JSON.stringify(have[key]),
      );
      if (changed.length === 0) return { created: false, updated: false };
      for (const field of IMMUTABLE_STREAM_FIELDS) {
        if (changed.includes(field)) {
          throw new VerdictError(
            'FAILED_PRECONDITION',
            `ensureStream(${spec.name}): ${field} is ${have[field]} on the server, ` +
              `declared ${want[field]}; it cannot be changed on an existing stream`,
            { field },
          );
        }
      }
      const merged = { ...have };
      for (const key of changed) Object.assign(merged, { [key]: want[key] });
      existing.config = merged;
      return { created: false, updated: true };
    },
    ensureConsumer(spec) {
      if (spec.backoffMs !== undefined && spec.maxDeliver !== undefined && spec.maxDeliver !== -1) {
        if (spec.maxDeliver <= spec.backoffMs.length) {
          throw new VerdictError(
            'INVALID_ARGUMENT',
            `ensureConsumer(${spec.name}): maxDeliver (${spec.maxDeliver}) must exceed backoffMs.length (${spec.backoffMs.length})`,
            { field: 'maxDeliver' },
          );
        }
      }
      const stream = getStream(spec.stream);
      const byName = consumers.get(spec.stream)!;
      const want = resolveConsumerSpec(spec);
      const existing = byName.get(spec.name);
      if (existing === undefined) {
        byName.set(spec.name, new MemoryConsumer(stream, want));
        return { created: true, updated: false };
      }
      // Like ensureConsumer on NATS: only declared fields count, deliver policy is fixed at creation.
      const have = existing.config;
      const declared: (keyof ConsumerSpec & keyof typeof want)[] = [
        'filterSubject',
        'ackWaitMs',
        'maxDeliver',
        'backoffMs',
        'maxAckPending',
        'description',
      ];
      const changed = declared.filter(
        (key) => spec[key] !== undefined && JSON.stringify(want[key]) !== JSON.stringify(have[key]),
      );
      if (changed.length === 0) return { created: false, updated: false };
      const merged = { ...have };
      for (const key of changed) Object.assign(merged, { [key]: want[key] });
      existing.update(merged);
      return { created: false, updated: true };
    },
    stream: getStream,
    consumer(stream, consumerName) {
      const c = consumers.get(stream)?.get(consumerName);
      if (c === undefined) throw consumerNotFound(stream, consumerName);
      return c;
    },
    deleteConsumer(stream, consumerName) {
      const c = consumers.get(stream)?.get(consumerName);
      if (c === undefined) return false;
      c.delete();
      consumers.get(stream)?.delete(consumerName);
      return true;
    },
    publish(p) {
      assertPublishSubject(p.subject);
      for (const [streamName, s] of streams) {
        if (!s.matches(p.subject)) continue;
        const { seq, duplicate } = s.append(p.subject, p.data, p.headers, p.msgId, p.expectLastSequence);
        return { stream: streamName, seq, duplicate };
      }
      throw new VerdictError('NOT_FOUND', `no stream stores subject ${p.subject} (no responders)`);
    },
    smallState(bucket) {
      let kv = kvs.get(bucket);
      if (kv === undefined) {
        kv = createMemoryKv(bucket);
        kvs.set(bucket, kv);
      }
      return kv;
    },
    reset() {
      for (const byName of consumers.values()) for (const c of byName.values()) c.delete();
      consumers.clear();
      streams.clear();
      kvs.clear();
      blobs = createMemoryBlobStore();
    },
  };
}

const registry = new Map<string, InMemoryBroker>();

/** The process-wide broker called `name` (`mem://name`), created on first use. */
export function getInMemoryBroker(name: string): InMemoryBroker {
  let broker = registry.get(name);
  if (broker === undefined) {
    broker = createInMemoryBroker(name);
    registry.set(name, broker);
  }
  return broker;
}

/** Forgets (and resets) the named broker; the next `mem://name` starts empty. */
export function disposeInMemoryBroker(name: string): void {
  registry.get(name)?.reset();
  registry.delete(name);
}
