import type { Messaging } from '../messaging/connect-nats.js';
import type { PoisonKind } from '../messaging/poison.js';
import { SCHEMA_HEADER } from '../messaging/verdict-topology.js';

// The poison-message tests of every service share these: the same three payload-level poisons on
// every subject (the service-level ones, duplicate and unknown run, need the service's own ids),
// the same check of the consumer's state and the same count of log lines.

/** Not a protobuf message: a length-delimited field 1 claiming far more bytes than follow. */
export const BAD_PROTOBUF = Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0x7f, 0x01, 0x02);

/** `valid` plus an unknown length-delimited field 999 (decoders skip it) so it is `size` bytes. */
export function padProtobuf(valid: Uint8Array, size: number): Uint8Array {
  const tag = [0xba, 0x3e]; // (999 << 3) | 2 as a varint
  const room = size - valid.length - tag.length;
  // The length prefix takes up to 5 bytes; shrink the padding until the total is exact.
  for (let pad = room - 1; pad >= 0; pad--) {
    const len = varint(pad);
    if (valid.length + tag.length + len.length + pad === size) {
      const out = new Uint8Array(size);
      out.set(valid, 0);
      out.set(tag, valid.length);
      out.set(len, valid.length + tag.length);
      return out;
    }
  }
  throw new RangeError(`cannot pad ${valid.length} bytes to ${size}`);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

export interface PayloadPoisonOptions {
  readonly subject: string;
  /** A well-formed message of the subject (the wrong-schema and oversized copies are built from it). */
  readonly valid: Uint8Array;
  /** The consumer's bound: the oversized copy is one byte over it. */
  readonly maxBytes: number;
  /** A schema header value the consumer must refuse (default: the next major version of nothing). */
  readonly wrongSchema?: string;
  /** Message-id prefix (each poison gets its own id, so JetStream's duplicate window keeps them all). */
  readonly idPrefix: string;
}

/**
 * Publishes one `undecodable`, one `wrong_schema` and one `oversized` message on `subject`.
 * Returns the kinds in publish order.
 */
export async function publishPayloadPoisons(
  messaging: Messaging,
  options: PayloadPoisonOptions,
): Promise<PoisonKind[]> {
  const { subject, idPrefix } = options;
  await messaging.publish(subject, BAD_PROTOBUF, { msgId: `${idPrefix}:undecodable` });
  await messaging.publish(subject, options.valid, {
    msgId: `${idPrefix}:wrong-schema`,
    headers: { [SCHEMA_HEADER]: options.wrongSchema ?? 'verdict.other.v9.Message' },
  });
  await messaging.publish(subject, padProtobuf(options.valid, options.maxBytes + 1), {
    msgId: `${idPrefix}:oversized`,
  });
  return ['undecodable', 'wrong_schema', 'oversized'];
}

/** Log lines of the PoisonGuard for `subject`, counted by kind. */
export function poisonLinesByKind(
  lines: readonly string[],
  subject: string,
): Partial<Record<PoisonKind, number>> {
  const out: Partial<Record<PoisonKind, number>> = {};
  const prefix = `poison message on ${subject} (`;
  for (const line of lines) {
    if (!line.startsWith(prefix)) continue;
    const kind = line.slice(prefix.length, line.indexOf(')', prefix.length)) as PoisonKind;
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

export interface ConsumerState {
  /** Stream messages not yet delivered to the consumer. */
  readonly pending: number;
  /** Delivered and not yet acked or terminated. */
  readonly ackPending: number;
  /** Messages delivered more than once. */
  readonly redelivered: number;
}

/** A durable consumer's counts from the server (NATS only). */
export async function consumerState(
  messaging: Messaging,
  stream: string,
  consumer: string,
): Promise<ConsumerState> {
  const info = await messaging.jetstreamManager.consumers.info(stream, consumer);
  return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
}

/** Polls `condition` every 20 ms; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
