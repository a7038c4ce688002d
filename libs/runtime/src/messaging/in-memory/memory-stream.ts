import { VerdictError } from '../../errors/index.js';
import type { StreamSpec } from '../streams.js';
import { subjectMatches } from './subjects.js';

/** nats-server's default max_payload; JetStream refuses bigger messages the same way. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: readonly [string, string][];
  readonly timestampMs: number;
}

/** A StreamSpec with every default filled in, compared field by field on ensureStream. */
export type ResolvedStreamSpec = Required<Omit<StreamSpec, 'description'>> & { description?: string };

export function resolveStreamSpec(spec: StreamSpec): ResolvedStreamSpec {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: spec.retention ?? 'limits',
    storage: spec.storage ?? 'file',
    maxAgeMs: spec.maxAgeMs ?? 0,
    duplicateWindowMs: spec.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS,
    maxMsgs: spec.maxMsgs ?? -1,
    maxBytes: spec.maxBytes ?? -1,
    maxMsgSizeBytes: spec.maxMsgSizeBytes ?? -1,
    discard: spec.discard ?? 'old',
    replicas: spec.replicas ?? 1,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
  };
}

export interface AppendResult {
  seq: number;
  duplicate: boolean;
}

/**
 * One stream's storage: sequence numbers, the msgId duplicate window and the limits
 * (max msgs / bytes / age, discard old or new). Listeners hear about every append.
 */
export class MemoryStream {
  config: ResolvedStreamSpec;
  private readonly messages = new Map<number, StoredMessage>();
  private readonly recentIds = new Map<string, { seq: number; atMs: number }>();
  private firstSeq = 1;
  private lastSeq = 0;
  private bytes = 0;
  private readonly listeners = new Set<() => void>();

  constructor(config: ResolvedStreamSpec) {
    this.config = config;
  }

  get lastSequence(): number {
    return this.lastSeq;
  }

  get firstSequence(): number {
    return this.firstSeq;
  }

  get messageCount(): number {
    return this.messages.size;
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  matches(subject: string): boolean {
    return this.config.subjects.some((pattern) => subjectMatches(pattern, subject));
  }

  get(seq: number): StoredMessage | undefined {
    this.expire(Date.now());
    return this.messages.get(seq);
  }

  delete(seq: number): void {
    const msg = this.messages.get(seq);
    if (msg === undefined) return;
    this.messages.delete(seq);
    this.bytes -= msg.data.length;
    while (this.firstSeq <= this.lastSeq && !this.messages.has(this.firstSeq)) this.firstSeq++;
  }

  /** Highest sequence whose subject matches `filter` (all subjects when undefined), or 0. */
  lastMatching(filter: string | undefined): number {
    this.expire(Date.now());
    for (let seq = this.lastSeq; seq >= this.firstSeq; seq--) {
      const msg = this.messages.get(seq);
      if (msg !== undefined && (filter === undefined || subjectMatches(filter, msg.subject))) return seq;
    }
    return 0;
  }

  /** Messages after `seq` that match `filter` (an ordered consumer's `pending`). */
  countAfter(seq: number, filter: string | undefined): number {
    let n = 0;
    for (let s = Math.max(seq + 1, this.firstSeq); s <= this.lastSeq; s++) {
      const msg = this.messages.get(s);
      if (msg !== undefined && (filter === undefined || subjectMatches(filter, msg.subject))) n++;
    }
    return n;
  }

  append(
    subject: string,
    data: Uint8Array,
    headers: [string, string][],
    msgId: string | undefined,
    expectLastSequence: number | undefined,
  ): AppendResult {
    const now = Date.now();
    this.expire(now);
    const limit = this.config.maxMsgSizeBytes > 0 ? this.config.maxMsgSizeBytes : MAX_PAYLOAD_BYTES;
    if (data.length > limit) {
      throw new VerdictError('INVALID_ARGUMENT', `message size ${data.length} exceeds maximum ${limit}`, {
        field: 'data',
      });
    }
    if (msgId !== undefined) {
      const seen = this.recentIds.get(msgId);
      if (seen !== undefined) return { seq: seen.seq, duplicate: true };
    }
    if (expectLastSequence !== undefined && expectLastSequence !== this.lastSeq) {
      throw new VerdictError('FAILED_PRECONDITION', `wrong last sequence: ${this.lastSeq}`, {
        field: 'expectLastSequence',
      });
    }
    const full =
      (this.config.maxMsgs > 0 && this.messages.size + 1 > this.config.maxMsgs) ||
      (this.config.maxBytes > 0 && this.bytes + data.length > this.config.maxBytes);
    if (full && this.config.discard === 'new') {
      throw new VerdictError(
        'RESOURCE_EXHAUSTED',
        `stream ${this.config.name}: maximum messages or bytes exceeded`,
      );
    }
    const seq = ++this.lastSeq;
    if (this.messages.size === 0) this.firstSeq = seq;
    this.messages.set(seq, { seq, subject, data, headers, timestampMs: now });
    this.bytes += data.length;
    if (msgId !== undefined) this.recentIds.set(msgId, { seq, atMs: now });
    this.enforceLimits();
    for (const listener of this.listeners) listener();
    return { seq, duplicate: false };
  }

  /** Drops what is past max age and msgIds past the duplicate window. */
  private expire(now: number): void {
    const window = this.config.duplicateWindowMs;
    for (const [id, seen] of this.recentIds) {
      // Insertion order is time order: stop at the first id still inside the window.
      if (now - seen.atMs < window) break;
      this.recentIds.delete(id);
    }
    if (this.config.maxAgeMs > 0) {
      for (let seq = this.firstSeq; seq <= this.lastSeq; seq++) {
        const msg = this.messages.get(seq);
        if (msg === undefined) continue;
        if (now - msg.timestampMs < this.config.maxAgeMs) break;
        this.delete(seq);
      }
    }
  }

  private enforceLimits(): void {
    const { maxMsgs, maxBytes } = this.config;
    while (
      this.messages.size > 0 &&
      ((maxMsgs > 0 && this.messages.size > maxMsgs) || (maxBytes > 0 && this.bytes > maxBytes))
    ) {
      this.delete(this.firstSeq);
    }
  }
}
