import type { Context, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * The one propagator Verdict speaks on every wire (gRPC metadata, NATS headers): W3C
 * `traceparent`/`tracestate` plus `baggage`. Used directly rather than through the global
 * `propagation` API so that context keeps flowing across services even in a process whose
 * telemetry is off (a no-op tracer still forwards the incoming span context).
 */
export const verdictPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/** A header map: NATS `MsgHdrs` (get/set) or a plain object of strings. */
export type HeaderCarrier =
  | { get(key: string): string | string[] | undefined | null; set(key: string, value: string): void }
  | Record<string, string | undefined>;

function isGetSetCarrier(carrier: HeaderCarrier): carrier is {
  get(key: string): string | string[] | undefined | null;
  set(key: string, value: string): void;
} {
  return typeof carrier.get === 'function' && typeof carrier.set === 'function';
}

const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys(carrier) {
    if (isGetSetCarrier(carrier)) {
      const keys = (carrier as { keys?: () => string[] }).keys;
      return typeof keys === 'function' ? keys.call(carrier) : [];
    }
    return Object.keys(carrier);
  },
  get(carrier, key) {
    const value = isGetSetCarrier(carrier) ? carrier.get(key) : carrier[key];
    // NATS MsgHdrs.get returns '' for a missing key; the propagators treat '' as absent anyway.
    if (value === null || value === undefined || value === '') return undefined;
    return value;
  },
};

const headerSetter: TextMapSetter<HeaderCarrier> = {
  set(carrier, key, value) {
    if (isGetSetCarrier(carrier)) carrier.set(key, value);
    else carrier[key] = value;
  },
};

/**
 * Writes the trace context of `ctx` (default: the active context) into `headers`
 * (`traceparent`, `tracestate`, `baggage`). Returns the same carrier for chaining.
 */
export function injectTraceHeaders<T extends HeaderCarrier>(headers: T, ctx: Context = context.active()): T {
  verdictPropagator.inject(ctx, headers, headerSetter);
  return headers;
}

/**
 * Reads W3C trace context from `headers` into a Context derived from `base` (default: the
 * root context, because a received message starts a new local scope). Missing or malformed
 * headers yield `base` unchanged.
 */
export function extractTraceContext(
  headers: HeaderCarrier | undefined,
  base: Context = ROOT_CONTEXT,
): Context {
  if (headers === undefined) return base;
  return verdictPropagator.extract(base, headers, headerGetter);
}
