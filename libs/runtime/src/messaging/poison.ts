import { clientText } from '../errors/client-text.js';
import type { RuntimeLogger } from '../lifecycle/logger.js';
import { createMetrics, type MetricsFactory } from '../telemetry/metrics.js';
import type { HandlerOutcome } from './consume.js';
import type { MessageHeaders } from './headers.js';
import { SCHEMA_HEADER } from './verdict-topology.js';

// A poison message is one no redelivery can fix: retrying it forever would hold a pull slot (or,
// with max_deliver -1, come back for good) and hide behind it the good messages that follow.
// Every consumer of a Verdict subject runs its messages through one PoisonGuard, so the checks,
// the log line and the counter are the same on every subject.

/** Why a message was rejected; the `kind` attribute of `messages_poisoned_total`. */
export const POISON_KINDS = [
  /** Not the subject's protobuf message (or missing a field every message must carry). */
  'undecodable',
  /** A `Verdict-Schema` header naming another message type or version. */
  'wrong_schema',
  /** Larger than the consumer's configured bound. */
  'oversized',
  /** A second stream message for an id already handled. */
  'duplicate',
  /** For a run this service has no record of. */
  'unknown_run',
] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];

/** What the guard needs of a delivered message (MessageContext and OrderedMessage both fit). */
export interface PoisonCandidate {
  readonly data: Uint8Array;
  readonly headers: MessageHeaders;
  readonly streamSequence: number;
  readonly deliveryCount: number;
  readonly msgId: string | undefined;
}

export interface PoisonGuardOptions<T> {
  readonly subject: string;
  /** Expected `Verdict-Schema` value (see VERDICT_SCHEMAS); a message without the header passes. */
  readonly schema: string;
  /** Largest accepted payload in bytes (the service's own bound, below NATS max_payload). */
  readonly maxBytes: number;
  /** Decodes the payload; a throw makes the message `undecodable` (its message is logged, capped). */
  readonly decode: (data: Uint8Array) => T;
  readonly logger: RuntimeLogger;
  /**
   * What happens to a rejected message: `term` (a durable consumer: JetStream never redelivers it)
   * or `skip` (an ordered consumer, which has no acks: the message is passed over).
   */
  readonly action?: 'term' | 'skip';
  /** Where `messages_poisoned_total` is created; default: the global meter. */
  readonly metrics?: MetricsFactory;
}

export type Admitted<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

export interface PoisonGuard<T> {
  /** Size, schema header and decoding, in that order (the cheap checks first). */
  admit(msg: PoisonCandidate): Admitted<T>;
  /** A service-level rejection (e.g. an unknown run): one log line, one count, `'term'`. */
  reject(msg: PoisonCandidate, kind: PoisonKind, reason: string, fields?: Record<string, unknown>): 'term';
  /**
   * An id the service already handled arrived again. On a first delivery it is another stream
   * message with the same id (a re-publish outside the duplicate window): rejected as
   * `duplicate`. A redelivery is the same message after a crash before its ack: acked quietly.
   */
  duplicate(msg: PoisonCandidate, id: string): HandlerOutcome;
  /** Rejections so far by kind (the counter's local mirror: tests, health). */
  readonly counts: Readonly<Record<PoisonKind, number>>;
}

function errorText(error: unknown): string {
  return clientText(error instanceof Error ? error.message : String(error), 200);
}

export function createPoisonGuard<T>(options: PoisonGuardOptions<T>): PoisonGuard<T> {
  const action = options.action ?? 'term';
  const counts = Object.fromEntries(POISON_KINDS.map((k) => [k, 0])) as Record<PoisonKind, number>;
  // Created with the guard (consumers start after telemetry): an instrument made before
  // startTelemetry would be a no-op forever. Same name and description = one shared metric.
  const counter = (options.metrics ?? createMetrics()).counter(
    'messages_poisoned_total',
    'NATS messages rejected as poison, by subject and kind',
  );

  const reject = (
    msg: PoisonCandidate,
    kind: PoisonKind,
    reason: string,
    fields: Record<string, unknown> = {},
  ): 'term' => {
    counts[kind]++;
    counter.add(1, { subject: options.subject, kind });
    // One line per poison message; every quoted value is bounded (a poison message may be huge).
    options.logger.warn(
      `poison message on ${options.subject} (${kind}): ${action === 'term' ? 'terminated' : 'skipped'}`,
      {
        subject: options.subject,
        kind,
        reason,
        seq: msg.streamSequence,
        deliveries: msg.deliveryCount,
        ...(msg.msgId !== undefined ? { msgId: clientText(msg.msgId) } : {}),
        ...fields,
      },
    );
    return 'term';
  };

  return {
    admit(msg) {
      if (msg.data.length > options.maxBytes) {
        reject(msg, 'oversized', `${msg.data.length} bytes is over the limit of ${options.maxBytes}`);
        return { ok: false };
      }
      const schema = msg.headers.get(SCHEMA_HEADER);
      if (schema !== undefined && schema !== options.schema) {
        reject(msg, 'wrong_schema', `${SCHEMA_HEADER} is ${clientText(schema)}, expected ${options.schema}`);
        return { ok: false };
      }
      try {
        return { ok: true, value: options.decode(msg.data) };
      } catch (error) {
        reject(msg, 'undecodable', `not a ${options.schema}: ${errorText(error)}`);
        return { ok: false };
      }
    },
    reject,
    duplicate(msg, id) {
      if (msg.deliveryCount > 1) return 'ack';
      return reject(msg, 'duplicate', 'id already handled', { id: clientText(id) });
    },
    counts,
  };
}

/** Bounded memory of recently handled ids (oldest forgotten first): the duplicate check's memory. */
export interface RecentIds {
  has(id: string): boolean;
  add(id: string): void;
}

export function createRecentIds(capacity: number): RecentIds {
  const ids = new Set<string>();
  return {
    has: (id) => ids.has(id),
    add(id) {
      ids.delete(id);
      ids.add(id);
      if (ids.size > capacity) ids.delete(ids.values().next().value!);
    },
  };
}
