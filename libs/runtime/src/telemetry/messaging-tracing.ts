import type { Attributes, Context, Span } from '@opentelemetry/api';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { HeaderCarrier } from './propagation.js';
import { extractTraceContext, injectTraceHeaders } from './propagation.js';
import { TRACER_NAME } from './tracer.js';

/**
 * Spans for NATS JetStream, named and attributed per the messaging semantic conventions:
 * `publish <subject>` (PRODUCER, `messaging.operation.type=send`) and `process <subject>`
 * (CONSUMER, `messaging.operation.type=process`). The consumer span is a child of the
 * producer span (context travels in the message's W3C headers), so one trace follows a
 * request across gRPC hops and streams.
 */

/** What the consumer span needs from a message; the messaging `MessageContext` and a `JsMsg` fit. */
export interface TracedMessage {
  subject: string;
  headers?: HeaderCarrier | undefined;
  /** Context already extracted by the messaging hook (`MessageContext.traceContext`). */
  traceContext?: unknown;
  streamSequence?: number;
  seq?: number;
  redelivered?: boolean;
}

function isContext(value: unknown): value is Context {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Context).getValue === 'function' &&
    typeof (value as Context).setValue === 'function'
  );
}

function recordFailure(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : new Error(String(err)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

async function runInSpan<T>(span: Span, ctx: Context, fn: (span: Span) => Promise<T> | T): Promise<T> {
  try {
    return await context.with(ctx, () => fn(span));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}

export interface ProducerSpanOptions {
  /** Headers to write the producer span's context into (not needed with `natsTraceHooks`, which inject the active context on publish). */
  headers?: HeaderCarrier;
  attributes?: Attributes;
}

/**
 * Runs `fn` (the publish) inside an active PRODUCER span for `subject`. With the messaging
 * layer's `natsTraceHooks` installed, the publish inside `fn` carries this span as parent;
 * otherwise pass `options.headers` and send those headers with the message.
 * Errors from `fn` mark the span and are rethrown.
 */
export function withProducerSpan<T>(
  subject: string,
  fn: (span: Span) => Promise<T> | T,
  options: ProducerSpanOptions = {},
): Promise<T> {
  const parent = context.active();
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.operation.name': 'publish',
        'messaging.operation.type': 'send',
        ...options.attributes,
      },
    },
    parent,
  );
  const spanContext = trace.setSpan(parent, span);
  if (options.headers !== undefined) injectTraceHeaders(options.headers, spanContext);
  return runInSpan(span, spanContext, fn);
}

/**
 * Runs `fn` (the handling of one delivered message) inside an active CONSUMER span whose
 * parent is the producer's context: `msg.traceContext` when the messaging hook already
 * extracted it, else the W3C headers (a new trace when there are none). Spans and publishes
 * made by `fn` join that trace. Errors from `fn` mark the span and are rethrown (the consume
 * loop decides nak/term).
 */
export function withConsumerSpan<T>(
  msg: TracedMessage,
  fn: (span: Span) => Promise<T> | T,
  attributes: Attributes = {},
): Promise<T> {
  const parent = isContext(msg.traceContext) ? msg.traceContext : extractTraceContext(msg.headers);
  const sequence = msg.streamSequence ?? msg.seq;
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `process ${msg.subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': msg.subject,
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        ...(sequence === undefined ? {} : { 'messaging.nats.stream_sequence': sequence }),
        ...(msg.redelivered === undefined ? {} : { 'messaging.nats.redelivered': msg.redelivered }),
        ...attributes,
      },
    },
    parent,
  );
  return runInSpan(span, trace.setSpan(parent, span), fn);
}

/**
 * The messaging layer's `MessageHeaderHooks`: every publish carries the active trace context,
 * every delivered message's context is extracted and made active around the handler (so the
 * handler's spans and publishes continue the producer's trace even without
 * `withConsumerSpan`). Pass to `connectNats({ headerHooks: natsTraceHooks })`.
 *
 * `tracePublish` / `traceConsume` are ready for the messaging layer to call around each
 * publish and each handler run, which would make PRODUCER/CONSUMER spans automatic (then
 * drop explicit `withProducerSpan`/`withConsumerSpan` around those calls).
 */
export const natsTraceHooks = {
  injectHeaders(headers: HeaderCarrier): void {
    injectTraceHeaders(headers);
  },
  extractContext(headers: HeaderCarrier | undefined): Context {
    return extractTraceContext(headers);
  },
  runInContext<T>(ctx: unknown, fn: () => Promise<T>): Promise<T> {
    return isContext(ctx) ? context.with(ctx, fn) : fn();
  },
  tracePublish<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    return withProducerSpan(subject, () => fn());
  },
  traceConsume<T>(msg: TracedMessage, fn: () => Promise<T>): Promise<T> {
    return withConsumerSpan(msg, () => fn());
  },
};
