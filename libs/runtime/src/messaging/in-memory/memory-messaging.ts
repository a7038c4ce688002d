import { VerdictError } from '../../errors/index.js';
import type { Messaging, PublishResult } from '../connect-nats.js';
import type { MessageHeaderHooks } from '../headers.js';
import type { OrderedMessage, OrderedSubscribeOptions, OrderedSubscription } from '../ordered.js';
import { withSchemaHeader } from '../verdict-topology.js';
import type { InMemoryBroker } from './broker.js';
import { runMemoryConsumeLoop, toMemoryContext } from './memory-consume.js';
import { createMemoryHeaders } from './memory-headers.js';
import { subjectMatches } from './subjects.js';

export interface InMemoryConnectOptions {
  broker: InMemoryBroker;
  /** Connection name (kept for symmetry with NATS; shows in errors). */
  name?: string;
  headerHooks?: MessageHeaderHooks;
}

const encoder = new TextEncoder();

function unavailableRaw(what: string): never {
  throw new VerdictError(
    'UNIMPLEMENTED',
    `messaging.${what} is a raw NATS handle; the in-memory transport has none (use the Messaging methods)`,
  );
}

/** A Messaging on an in-process broker: the same contract as connectNats, no server. */
export function connectInMemory(options: InMemoryConnectOptions): Messaging {
  const { broker } = options;
  let hooks = options.headerHooks;
  const closer = new AbortController();
  const loops = new Set<Promise<unknown>>();
  const subscriptions = new Set<OrderedSubscription>();
  const label = options.name ?? 'in-memory';
  const assertOpen = (): void => {
    if (closer.signal.aborted) throw new VerdictError('UNAVAILABLE', `${label}: messaging is closed`);
  };
  let closing: Promise<void> | undefined;

  const subscribeOrdered = async (o: OrderedSubscribeOptions): Promise<OrderedSubscription> => {
    assertOpen();
    const stream = broker.stream(o.stream);
    const filter = o.filterSubject;
    const policy = o.deliverPolicy ?? 'all';
    let cursor =
      policy === 'all'
        ? stream.firstSequence
        : policy === 'last'
          ? stream.lastMatching(filter) || stream.lastSequence + 1
          : stream.lastSequence + 1;
    const stop = new AbortController();
    const ended = AbortSignal.any([stop.signal, closer.signal]);
    const subscriptionHooks = hooks;
    const subscription: OrderedSubscription = {
      async *[Symbol.asyncIterator](): AsyncGenerator<OrderedMessage> {
        while (!ended.aborted) {
          const seq = Math.max(cursor, stream.firstSequence);
          let found = false;
          for (let s = seq; s <= stream.lastSequence; s++) {
            const message = stream.get(s);
            cursor = s + 1;
            if (message === undefined) continue;
            if (filter !== undefined && !subjectMatches(filter, message.subject)) continue;
            found = true;
            const ctx = toMemoryContext(
              message,
              { deliveryCount: 1, working: () => undefined },
              subscriptionHooks,
            );
            yield { ...ctx, pending: stream.countAfter(message.seq, filter) };
            break;
          }
          if (found || ended.aborted) continue;
          await new Promise<void>((resolve) => {
            const wake = (): void => {
              off();
              ended.removeEventListener('abort', wake);
              resolve();
            };
            const off = stream.onAppend(wake);
            ended.addEventListener('abort', wake, { once: true });
          });
        }
      },
      async close() {
        stop.abort();
        subscriptions.delete(subscription);
      },
    };
    subscriptions.add(subscription);
    return subscription;
  };

  return {
    transport: 'memory',
    get connection(): never {
      return unavailableRaw('connection');
    },
    get jetstream(): never {
      return unavailableRaw('jetstream');
    },
    get jetstreamManager(): never {
      return unavailableRaw('jetstreamManager');
    },
    isClosed: () => closer.signal.aborted,
    setHeaderHooks(next) {
      hooks = next;
    },
    async ensureStream(spec) {
      assertOpen();
      return broker.ensureStream(spec);
    },
    async ensureConsumer(spec) {
      assertOpen();
      return broker.ensureConsumer(spec);
    },
    async publish(subject, data, publishOptions = {}) {
      assertOpen();
      const send = async (): Promise<PublishResult> => {
        const headers = createMemoryHeaders(
          Object.entries(withSchemaHeader(subject, publishOptions.headers) ?? {}),
        );
        hooks?.injectHeaders(headers);
        if (publishOptions.msgId !== undefined) headers.set('Nats-Msg-Id', publishOptions.msgId);
        const bytes = typeof data === 'string' ? encoder.encode(data) : Uint8Array.from(data);
        return broker.publish({
          subject,
          data: bytes,
          headers: headers.entries(),
          msgId: publishOptions.msgId,
          expectLastSequence: publishOptions.expectLastSequence,
        });
      };
      return hooks?.tracePublish !== undefined ? hooks.tracePublish(subject, send) : send();
    },
    async consume(consumeOptions) {
      assertOpen();
      const loop = runMemoryConsumeLoop(
        () => broker.consumer(consumeOptions.stream, consumeOptions.consumer),
        closer.signal,
        consumeOptions,
        hooks,
      );
      loops.add(loop);
      try {
        return await loop;
      } finally {
        loops.delete(loop);
      }
    },
    subscribeOrdered,
    async putBlob(bucket, name, bytes) {
      assertOpen();
      return broker.blobs.putBlob(bucket, name, bytes);
    },
    async getBlob(bucket, name, expect) {
      assertOpen();
      return broker.blobs.getBlob(bucket, name, expect);
    },
    async smallState(bucket) {
      assertOpen();
      return broker.smallState(bucket);
    },
    async flush() {
      assertOpen();
    },
    close() {
      closing ??= (async () => {
        closer.abort();
        await Promise.allSettled([...loops]);
        await Promise.allSettled([...subscriptions].map((s) => s.close()));
      })();
      return closing;
    },
  };
}
