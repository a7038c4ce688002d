import { VerdictError } from '../../errors/index.js';
import type { ConsumerSpec } from '../streams.js';
import type { MemoryStream, StoredMessage } from './memory-stream.js';
import { subjectMatches } from './subjects.js';

export interface ResolvedConsumerSpec {
  name: string;
  filterSubject: string | undefined;
  ackWaitMs: number;
  maxDeliver: number;
  backoffMs: number[] | undefined;
  maxAckPending: number;
  deliverPolicy: 'all' | 'new' | 'last';
  description: string | undefined;
}

export function resolveConsumerSpec(spec: ConsumerSpec): ResolvedConsumerSpec {
  return {
    name: spec.name,
    filterSubject: spec.filterSubject,
    ackWaitMs: spec.ackWaitMs ?? 30_000,
    maxDeliver: spec.maxDeliver ?? -1,
    backoffMs: spec.backoffMs,
    maxAckPending: spec.maxAckPending ?? 1_000,
    deliverPolicy: spec.deliverPolicy ?? 'all',
    description: spec.description,
  };
}

/** One handed-out delivery; settling it acts on the consumer like an ack reply subject would. */
export interface MemoryDelivery {
  readonly message: StoredMessage;
  readonly deliveryCount: number;
}

interface PendingEntry {
  deliveryCount: number;
  /** out: with a client; waiting: nak'd with a delay; ready: due for redelivery. */
  state: 'out' | 'waiting' | 'ready';
  timer: NodeJS.Timeout | undefined;
}

/**
 * A durable pull consumer with explicit acks: a cursor over new messages plus the pending
 * (unacked) set, redelivered after ack wait (or the backoff step), after a nak (with its
 * delay), never after a term, and dropped once max deliver is reached — as nats-server does.
 */
export class MemoryConsumer {
  config: ResolvedConsumerSpec;
  private nextSeq: number;
  private readonly pending = new Map<number, PendingEntry>();
  /** Sequences of pending entries in state 'ready' (so take() need not scan all of pending). */
  private readonly ready = new Set<number>();
  private readonly waiters = new Set<() => void>();
  private readonly unsubscribe: () => void;
  private deleted = false;

  constructor(
    private readonly stream: MemoryStream,
    config: ResolvedConsumerSpec,
  ) {
    this.config = config;
    const last = stream.lastSequence;
    if (config.deliverPolicy === 'new') this.nextSeq = last + 1;
    else if (config.deliverPolicy === 'last') {
      const lastMatch = stream.lastMatching(config.filterSubject);
      this.nextSeq = lastMatch > 0 ? lastMatch : last + 1;
    } else this.nextSeq = stream.firstSequence;
    this.unsubscribe = stream.onAppend(() => this.notify());
  }

  get numAckPending(): number {
    return this.pending.size;
  }

  /** Messages not yet delivered once (JetStream's num_pending). */
  get numPending(): number {
    return this.stream.countAfter(this.nextSeq - 1, this.config.filterSubject);
  }

  /** Takes the next message to deliver (redeliveries first), or undefined when none is due. */
  take(): MemoryDelivery | undefined {
    if (this.deleted) return undefined;
    if (this.ready.size > 0) {
      for (const seq of [...this.ready].sort((a, b) => a - b)) {
        const entry = this.pending.get(seq);
        const message = this.stream.get(seq);
        if (entry === undefined || message === undefined) {
          this.drop(seq);
          continue;
        }
        return this.handOut(message, entry);
      }
    }
    if (this.pending.size >= this.config.maxAckPending && this.config.maxAckPending > 0) return undefined;
    while (this.nextSeq <= this.stream.lastSequence) {
      const message = this.stream.get(this.nextSeq++);
      if (message === undefined) continue;
      if (
        this.config.filterSubject !== undefined &&
        !subjectMatches(this.config.filterSubject, message.subject)
      ) {
        continue;
      }
      const entry: PendingEntry = { deliveryCount: 0, state: 'out', timer: undefined };
      this.pending.set(message.seq, entry);
      return this.handOut(message, entry);
    }
    return undefined;
  }

  /** Resolves with a delivery, or undefined once `signal` aborts or the consumer is deleted. */
  async next(signal: AbortSignal | undefined): Promise<MemoryDelivery | undefined> {
    for (;;) {
      if (signal?.aborted || this.deleted) return undefined;
      const delivery = this.take();
      if (delivery !== undefined) return delivery;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** Wakes every waiting puller (new message, redelivery due, pending slot freed, close). */
  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  ack(delivery: MemoryDelivery): void {
    this.settle(delivery.message.seq);
  }

  term(delivery: MemoryDelivery): void {
    this.settle(delivery.message.seq);
  }

  nak(delivery: MemoryDelivery, delayMs: number): void {
    const entry = this.current(delivery);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    if (this.exhausted(entry)) {
      this.drop(delivery.message.seq);
      return;
    }
    if (delayMs > 0) {
      entry.state = 'waiting';
      entry.timer = setTimeout(() => this.makeReady(delivery.message.seq, entry), delayMs).unref();
    } else this.makeReady(delivery.message.seq, entry);
  }

  working(delivery: MemoryDelivery): void {
    const entry = this.current(delivery);
    if (entry === undefined || entry.state !== 'out') return;
    this.arm(delivery.message.seq, entry, this.config.ackWaitMs);
  }

  update(config: ResolvedConsumerSpec): void {
    this.config = { ...config, deliverPolicy: this.config.deliverPolicy };
    this.notify();
  }

  delete(): void {
    this.deleted = true;
    this.unsubscribe();
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
    this.ready.clear();
    this.notify();
  }

  private handOut(message: StoredMessage, entry: PendingEntry): MemoryDelivery {
    entry.deliveryCount++;
    entry.state = 'out';
    this.ready.delete(message.seq);
    const backoff = this.config.backoffMs;
    const waitMs =
      backoff !== undefined && backoff.length > 0
        ? (backoff[Math.min(entry.deliveryCount - 1, backoff.length - 1)] ?? this.config.ackWaitMs)
        : this.config.ackWaitMs;
    this.arm(message.seq, entry, waitMs);
    return { message, deliveryCount: entry.deliveryCount };
  }

  private arm(seq: number, entry: PendingEntry, waitMs: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (this.pending.get(seq) !== entry || entry.state !== 'out') return;
      if (this.exhausted(entry)) this.drop(seq);
      else this.makeReady(seq, entry);
    }, waitMs).unref();
  }

  private makeReady(seq: number, entry: PendingEntry): void {
    if (this.pending.get(seq) !== entry) return;
    entry.state = 'ready';
    entry.timer = undefined;
    this.ready.add(seq);
    this.notify();
  }

  private exhausted(entry: PendingEntry): boolean {
    return this.config.maxDeliver > 0 && entry.deliveryCount >= this.config.maxDeliver;
  }

  /** The pending entry when this delivery is still its latest one (older deliveries only ack). */
  private current(delivery: MemoryDelivery): PendingEntry | undefined {
    const entry = this.pending.get(delivery.message.seq);
    return entry?.deliveryCount === delivery.deliveryCount ? entry : undefined;
  }

  private settle(seq: number): void {
    const entry = this.pending.get(seq);
    if (entry === undefined) return;
    this.drop(seq);
    if (this.stream.config.retention === 'workqueue') this.stream.delete(seq);
  }

  private drop(seq: number): void {
    clearTimeout(this.pending.get(seq)?.timer);
    this.pending.delete(seq);
    this.ready.delete(seq);
    this.notify();
  }
}

export function consumerNotFound(stream: string, name: string): VerdictError {
  return new VerdictError('NOT_FOUND', `consumer ${name} not found on stream ${stream}`);
}
