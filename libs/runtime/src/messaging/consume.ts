import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { type ErrorCode, isVerdictError, modelErrorToErrorCode } from '../errors/index.js';
import { type MessageHeaderHooks, type MessageHeaders, wrapHeaders } from './headers.js';

/** What a handler decides for one message. Acks are sent only after the handler returns. */
export type HandlerOutcome = 'ack' | 'term' | { nak: number };

export interface MessageContext {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Incoming headers; `set` only changes the local copy (handy for passing context on). */
  readonly headers: MessageHeaders;
  /** The publisher's `Nats-Msg-Id`, when it set one. */
  readonly msgId: string | undefined;
  readonly streamSequence: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** What `MessageHeaderHooks.extractContext` returned (e.g. an OTel Context). */
  readonly traceContext: unknown;
  /** Tells the server the handler is still busy (resets the ack-wait timer). */
  working(): void;
  text(): string;
  json<T>(): T;
}

export type MessageHandler = (msg: MessageContext) => HandlerOutcome | Promise<HandlerOutcome>;

export interface ConsumeOptions {
  stream: string;
  consumer: string;
  handler: MessageHandler;
  /** Handlers running at once; also the most messages pulled but not yet settled. */
  concurrency?: number;
  /** Abort = graceful stop: no new fetches, in-flight handlers finish and settle. */
  signal?: AbortSignal;
  /** Server-side wait per pull request (nats.js minimum 1000). */
  fetchExpiresMs?: number;
  /** First nak delay after a handler throws; doubles per delivery. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Deliveries after which a throwing handler's message is termed; default: the consumer's max_deliver. */
  maxDeliver?: number;
  /**
   * A thrown error for which this returns false is termed at once (bad input never gets
   * better). Default: VerdictErrors with INVALID_ARGUMENT, UNIMPLEMENTED or PERMISSION_DENIED
   * (and model engine ModelErrors mapping to one) are not retried; everything else is.
   */
  isRetryable?: (error: unknown) => boolean;
  /** Calls `working()` on this period while a handler runs; default: half the consumer's ack wait. 0 = off. */
  workingIntervalMs?: number;
  /** Handler throws and fetch failures; the loop keeps going. */
  onError?: (error: unknown, msg: MessageContext | undefined) => void;
}

export interface ConsumeStats {
  delivered: number;
  acked: number;
  naked: number;
  termed: number;
  handlerErrors: number;
}

const NATS_MSG_ID = 'Nats-Msg-Id';

export function toContext(m: JsMsg, hooks: MessageHeaderHooks | undefined): MessageContext {
  const headers = wrapHeaders(m.headers);
  return {
    subject: m.subject,
    data: m.data,
    headers,
    msgId: headers.get(NATS_MSG_ID),
    streamSequence: m.seq,
    deliveryCount: m.info.deliveryCount,
    redelivered: m.redelivered,
    traceContext: hooks?.extractContext(headers),
    working: () => m.working(),
    text: () => m.string(),
    json: <T>() => m.json<T>(),
  };
}

const NOT_RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'INVALID_ARGUMENT',
  'UNIMPLEMENTED',
  'PERMISSION_DENIED',
]);

/**
 * False for bad input that a redelivery cannot fix: a VerdictError with a NOT_RETRYABLE code, or a
 * model engine ModelError that maps to one (INVALID_ARGUMENT: e.g. a prompt longer than the model's
 * context). Broken model files (FAILED_PRECONDITION) are retried with backoff like any
 * precondition: an operator or a weights hot-swap can fix them before max_deliver.
 */
export function isRetryableError(error: unknown): boolean {
  const code = isVerdictError(error) ? error.code : modelErrorToErrorCode(error);
  return !(code !== undefined && NOT_RETRYABLE.has(code));
}

export function isHandlerOutcome(value: unknown): value is HandlerOutcome {
  if (value === 'ack' || value === 'term') return true;
  return typeof value === 'object' && value !== null && typeof (value as { nak?: unknown }).nak === 'number';
}

function keepAlive(m: JsMsg): void {
  try {
    m.working();
  } catch {
    // Connection closed: nothing to extend; the settle after the handler reports the failure.
  }
}

/** Exponential backoff for retried failures: base·2^(n−1), capped. */
export function retryDelayMs(deliveryCount: number, baseMs: number, maxMs: number): number {
  const exponent = Math.max(0, Math.min(deliveryCount - 1, 30));
  return Math.min(maxMs, baseMs * 2 ** exponent);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Pull-consumes a durable consumer until `signal` aborts. Never pulls more than there are free
 * handler slots, so on stop nothing sits unprocessed in a client buffer. Resolves with counts
 * once every in-flight message is settled and `flush` has pushed the acks to the server.
 */
export async function runConsumeLoop(
  js: JetStreamClient,
  flush: () => Promise<void>,
  options: ConsumeOptions,
  hooks: MessageHeaderHooks | undefined,
): Promise<ConsumeStats> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const signal = options.signal;
  const consumer = await js.consumers.get(options.stream, options.consumer);
  const info = await consumer.info(true);
  const maxDeliver = options.maxDeliver ?? info.config.max_deliver ?? -1;
  const ackWaitMs = (info.config.ack_wait ?? 30_000_000_000) / 1_000_000;
  const workingIntervalMs = options.workingIntervalMs ?? Math.floor(ackWaitMs / 2);
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

  const settle = (m: JsMsg, outcome: HandlerOutcome): void => {
    if (outcome === 'ack') {
      m.ack();
      stats.acked++;
    } else if (outcome === 'term') {
      m.term();
      stats.termed++;
    } else {
      m.nak(Math.max(0, outcome.nak));
      stats.naked++;
    }
  };

  const handleOne = async (m: JsMsg): Promise<void> => {
    stats.delivered++;
    let ctx: MessageContext | undefined;
    let decided: { outcome: HandlerOutcome } | undefined;
    const timer =
      workingIntervalMs > 0 ? setInterval(() => keepAlive(m), workingIntervalMs).unref() : undefined;
    try {
      const context = toContext(m, hooks);
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
      decided = { outcome };
    } catch (err) {
      stats.handlerErrors++;
      reportError(err, ctx);
      const count = m.info.deliveryCount;
      const exhausted = maxDeliver > 0 && count >= maxDeliver;
      decided = {
        outcome: exhausted || !isRetryable(err) ? 'term' : { nak: retryDelayMs(count, baseMs, maxMs) },
      };
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
    try {
      if (decided !== undefined) settle(m, decided.outcome);
    } catch (err) {
      // Settling fails only when the connection is closed; the server redelivers after ack wait.
      reportError(err, ctx);
    }
  };

  // A function, not a property read: TS would narrow `aborted` across the awaits below.
  const stopped = (): boolean => signal?.aborted === true;
  const inFlight = new Set<Promise<void>>();
  let batch: ConsumerMessages | undefined;
  const onAbort = (): void => {
    void batch?.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (!stopped()) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (stopped()) break;
      try {
        batch = await consumer.fetch({
          max_messages: concurrency - inFlight.size,
          expires: options.fetchExpiresMs ?? 5_000,
        });
        if (stopped()) void batch.close();
        // Messages already received when the batch closes are still yielded: they are handled.
        for await (const m of batch) {
          const p: Promise<void> = handleOne(m).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      } catch (err) {
        reportError(err, undefined);
        await sleep(1_000, signal);
      } finally {
        batch = undefined;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled(inFlight);
    await flush().catch((err: unknown) => reportError(err, undefined));
  }
  return stats;
}
