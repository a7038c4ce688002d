import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { type MessageContext, toContext } from './consume.js';
import type { MessageHeaderHooks } from './headers.js';

export interface OrderedSubscribeOptions {
  stream: string;
  filterSubject?: string;
  /** Where to start: every message, the last matching one (late joiners catch up), or only new ones. */
  deliverPolicy?: 'all' | 'last' | 'new';
}

/** A message of an ordered subscription: no acks (`working()` does nothing), exact stream order. */
export interface OrderedMessage extends MessageContext {
  /** Matching messages stored after this one and not yet seen (0 = this is the newest). */
  readonly pending: number;
}

/**
 * An ephemeral, ordered, unacknowledged read of a stream (every reader sees every message,
 * unlike a durable consumer that shares them out). `close()` ends the iteration.
 */
export interface OrderedSubscription extends AsyncIterable<OrderedMessage> {
  close(): Promise<void>;
}

const DELIVER: Record<NonNullable<OrderedSubscribeOptions['deliverPolicy']>, DeliverPolicy> = {
  all: DeliverPolicy.All,
  last: DeliverPolicy.Last,
  new: DeliverPolicy.New,
};

/** NATS: an ordered consumer (server-side ephemeral, recreated by the client on gaps). */
export async function subscribeOrderedNats(
  js: JetStreamClient,
  options: OrderedSubscribeOptions,
  hooks: MessageHeaderHooks | undefined,
): Promise<OrderedSubscription> {
  const consumer = await js.consumers.get(options.stream, {
    ...(options.filterSubject !== undefined ? { filter_subjects: options.filterSubject } : {}),
    deliver_policy: DELIVER[options.deliverPolicy ?? 'all'],
  });
  // Pulls expire after 5 s (nats.js default 30 s) and are re-issued. After a nats-server restart the
  // client recreates the ordered consumer, and its first pull can go missing: with 30 s pulls a
  // policy replica then saw the next weights announcement ~40 s late, and nak'd the rollouts that
  // wanted those weights until max-deliver dropped them (found by test/e2e-chaos; see
  // test/messaging-outage.test.ts). Idle cost: one pull request per 5 s per subscription.
  const messages = await consumer.consume({ expires: 5_000 });
  return {
    async *[Symbol.asyncIterator]() {
      for await (const m of messages) {
        yield { ...toContext(m, hooks), working: () => undefined, pending: m.info.pending };
      }
    },
    async close() {
      await messages.close();
    },
  };
}
