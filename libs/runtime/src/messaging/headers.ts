import { headers as createNatsHeaders, type MsgHdrs } from '@nats-io/transport-node';

/**
 * A small get/set view of NATS message headers. It has the shape OpenTelemetry's
 * TextMapGetter/TextMapSetter need (get, set, keys), so W3C `traceparent` can ride along
 * without this package knowing about OTel.
 */
export interface MessageHeaders {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  has(name: string): boolean;
  keys(): string[];
  /** A plain-object copy (first value per key). */
  toRecord(): Record<string, string>;
}

/**
 * Hooks the telemetry layer plugs in: `injectHeaders` runs on every publish (write the current
 * trace context), `extractContext` on every delivered message (read it back); the returned
 * context is handed to `runInContext` around the handler and exposed as `traceContext`.
 */
export interface MessageHeaderHooks {
  injectHeaders(headers: MessageHeaders): void;
  extractContext(headers: MessageHeaders): unknown;
  runInContext?<T>(context: unknown, fn: () => Promise<T>): Promise<T>;
  /** Wraps each publish (e.g. in a PRODUCER span); headers are built inside it, so they carry it. */
  tracePublish?<T>(subject: string, fn: () => Promise<T>): Promise<T>;
  /** Wraps each handler run (e.g. in a CONSUMER span); used instead of `runInContext` when set. */
  traceConsume?<T>(message: TracedDelivery, fn: () => Promise<T>): Promise<T>;
}

/** What `traceConsume` sees of a delivered message. */
export interface TracedDelivery {
  readonly subject: string;
  readonly headers: MessageHeaders;
  readonly traceContext: unknown;
  readonly redelivered: boolean;
}

/** Wraps (and lazily creates) NATS headers; `natsHeaders()` returns undefined when none were set. */
export interface WrappedHeaders extends MessageHeaders {
  natsHeaders(): MsgHdrs | undefined;
}

export function wrapHeaders(source?: MsgHdrs): WrappedHeaders {
  let hdrs = source;
  return {
    get(name) {
      if (hdrs === undefined || !hdrs.has(name)) return undefined;
      return hdrs.get(name);
    },
    set(name, value) {
      hdrs ??= createNatsHeaders();
      hdrs.set(name, value);
    },
    has(name) {
      return hdrs?.has(name) ?? false;
    },
    keys() {
      return hdrs?.keys() ?? [];
    },
    toRecord() {
      const out: Record<string, string> = {};
      if (hdrs === undefined) return out;
      for (const key of hdrs.keys()) out[key] = hdrs.get(key);
      return out;
    },
    natsHeaders() {
      return hdrs;
    },
  };
}

/** Builds outgoing headers from a record plus the inject hook. */
export function buildPublishHeaders(
  record: Record<string, string> | undefined,
  hooks: MessageHeaderHooks | undefined,
): MsgHdrs | undefined {
  const wrapped = wrapHeaders();
  for (const [name, value] of Object.entries(record ?? {})) wrapped.set(name, value);
  hooks?.injectHeaders(wrapped);
  return wrapped.natsHeaders();
}
