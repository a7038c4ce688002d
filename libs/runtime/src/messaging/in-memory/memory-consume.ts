import { VerdictError } from '../../errors/index.js';
import {
  type ConsumeOptions,
  type ConsumeStats,
  type HandlerOutcome,
  isHandlerOutcome,
  isRetryableError,
  type MessageContext,
  retryDelayMs,
} from '../consume.js';
import type { MessageHeaderHooks } from '../headers.js';
import type { MemoryConsumer, MemoryDelivery } from './memory-consumer.js';
import { createMemoryHeaders } from './memory-headers.js';
import type { StoredMessage } from './memory-stream.js';

const NATS_MSG_ID = 'Nats-Msg-Id';
const decoder = new TextDecoder();

/** The MessageContext of a stored message; `working` is what a delivery can do (nothing for ordered reads). */
export function toMemoryContext(
  message: StoredMessage,
  delivery: { deliveryCount: number; working: () => void },
  hooks: MessageHeaderHooks | undefined,
): MessageContext {
  const headers = createMemoryHeaders(message.headers);
  // A fresh buffer per delivery, as from the wire: a handler that mutates it harms no one.
  const data = Uint8Array.from(message.data);
  return {
    subject: message.subject,
    data,
    headers,
    msgId: headers.get(NATS_MSG_ID),
    streamSequence: message.seq,
    deliveryCount: delivery.deliveryCount,
    redelivered: delivery.deliveryCount > 1,
    traceContext: hooks?.extractContext(headers),
    working: delivery.working,
    text: () => decoder.decode(data),
    json: <T>() => JSON.parse(decoder.decode(data)) as T,
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms).unref();
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The in-process twin of runConsumeLoop with the same contract: never takes more than the free
 * handler slots, acks after the handler returns, throws → nak with exponential backoff and term
 * at max deliver (at once for non-retryable errors), `working()` every half ack wait, abort →
 * stop taking, settle in-flight, resolve with the counts. `lookup` re-resolves the durable
 * consumer so a deleted-and-recreated one is picked up, as a NATS pull would.
 */
export async function runMemoryConsumeLoop(
  lookup: () => MemoryConsumer,
  closed: AbortSignal,
  options: ConsumeOptions,
  hooks: MessageHeaderHooks | undefined,
): Promise<ConsumeStats> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const isClosed = (): boolean => closed.aborted;
  // Closing the Messaging stops its loops like an abort (a drained NATS connection fetches nothing).
  const signal = options.signal === undefined ? closed : AbortSignal.any([options.signal, closed]);
  let consumer = lookup();
  const maxDeliver = options.maxDeliver ?? consumer.config.maxDeliver;
  const workingIntervalMs = options.workingIntervalMs ?? Math.floor(consumer.config.ackWaitMs / 2);
  const baseMs = options.retryBaseDelayMs ?? 500;
  const maxMs = options.retryMaxDelayMs ?? 30_000;
  const isRetryable = options.isRetryable ?? isRetryableError;
  const reportError = (error: unknown, msg: MessageContext | undefined): void => {
    try {
      options.onError?.(error, msg);
    } catch {
      // A throwing error callback must not leave a message unsettled or kill the loop.
    }
  };
  const stats: ConsumeStats = { delivered: 0, acked: 0, naked: 0, termed: 0, handlerErrors: 0 };

  const settle = (owner: MemoryConsumer, d: MemoryDelivery, outcome: HandlerOutcome): void => {
    if (isClosed())
      throw new VerdictError('UNAVAILABLE', 'messaging is closed: the message is redelivered after ack wait');
    if (outcome === 'ack') {
      owner.ack(d);
      stats.acked++;
    } else if (outcome === 'term') {
      owner.term(d);
      stats.termed++;
    } else {
      owner.nak(d, Math.max(0, outcome.nak));
      stats.naked++;
    }
  };

  const handleOne = async (owner: MemoryConsumer, d: MemoryDelivery): Promise<void> => {
    stats.delivered++;
    let ctx: MessageContext | undefined;
    let decided: HandlerOutcome | undefined;
    const keepAlive = (): void => {
      if (!isClosed()) owner.working(d);
    };
    const timer = workingIntervalMs > 0 ? setInterval(keepAlive, workingIntervalMs).unref() : undefined;
    try {
      const context = toMemoryContext(
        d.message,
        { deliveryCount: d.deliveryCount, working: keepAlive },
        hooks,
      );
      ctx = context;
      const run = async (): Promise<HandlerOutcome> => options.handler(context);
      const outcome =
        hooks?.traceConsume !== undefined
          ? await hooks.traceConsume(context, run)
          : hooks?.runInContext !== undefined
            ? await hooks.runInContext(context.traceContext, run)
            : await run();
      if (!isHandlerOutcome(outcome)) {
        throw new Error(
          `handler returned ${JSON.stringify(outcome)}; expected 'ack', 'term' or { nak: delayMs }`,
        );
      }
      decided = outcome;
    } catch (err) {
      stats.handlerErrors++;
      reportError(err, ctx);
      const exhausted = maxDeliver > 0 && d.deliveryCount >= maxDeliver;
      decided =
        exhausted || !isRetryable(err) ? 'term' : { nak: retryDelayMs(d.deliveryCount, baseMs, maxMs) };
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
    try {
      settle(owner, d, decided);
    } catch (err) {
      reportError(err, ctx);
    }
  };

  const stopped = (): boolean => signal?.aborted === true || isClosed();
  const inFlight = new Set<Promise<void>>();
  try {
    while (!stopped()) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (stopped()) break;
      const delivery = await consumer.next(signal);
      if (delivery === undefined) {
        if (stopped()) break;
        // The consumer was deleted: keep looking for it, like a pull loop retrying its fetch.
        try {
          consumer = lookup();
        } catch (err) {
          reportError(err, undefined);
          await sleep(1_000, signal);
        }
        continue;
      }
      const owner = consumer;
      const p: Promise<void> = handleOne(owner, delivery).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
  return stats;
}
