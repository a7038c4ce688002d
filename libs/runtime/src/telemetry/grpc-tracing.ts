import type { Interceptor, Metadata, ServerInterceptor, StatusObject } from '@grpc/grpc-js';
import { status as GrpcStatus, InterceptingCall, ServerInterceptingCall } from '@grpc/grpc-js';
import type { Context, Span, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { verdictPropagator } from './propagation.js';
import { TRACER_NAME } from './tracer.js';

/**
 * gRPC tracing without monkey-patching: a client interceptor that opens a CLIENT span and
 * injects W3C `traceparent` into the request metadata, and a server interceptor that
 * extracts it, opens a SERVER span and runs the handler inside that span's context (so
 * spans the handler starts, e.g. a NATS publish, become its children). Works under tsx and
 * plain ESM without the import-in-the-middle hook that instrumentation-grpc needs.
 */

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get(md, key) {
    const values = md.get(key).map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
    if (values.length === 0) return undefined;
    return values.length === 1 ? values[0] : values;
  },
};

const metadataSetter: TextMapSetter<Metadata> = {
  set: (md, key, value) => md.set(key, value),
};

/** Writes the trace context of `ctx` (default: active) into gRPC metadata. */
export function injectGrpcMetadata(metadata: Metadata, ctx: Context = context.active()): Metadata {
  verdictPropagator.inject(ctx, metadata, metadataSetter);
  return metadata;
}

/** Reads the trace context carried by incoming gRPC metadata (root context when absent). */
export function extractGrpcContext(metadata: Metadata): Context {
  return verdictPropagator.extract(ROOT_CONTEXT, metadata, metadataGetter);
}

/** `/verdict.judge.v1.JudgeService/Judge` → service and method, per the RPC semantic conventions. */
function splitPath(path: string): { service: string; method: string; spanName: string } {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  const slash = trimmed.lastIndexOf('/');
  const service = slash >= 0 ? trimmed.slice(0, slash) : '';
  const method = slash >= 0 ? trimmed.slice(slash + 1) : trimmed;
  return { service, method, spanName: trimmed };
}

function endWithStatus(span: Span, code: number, details: string | undefined): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (code !== GrpcStatus.OK) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${GrpcStatus[code] ?? code}: ${details ?? ''}` });
  }
  span.end();
}

/**
 * Client interceptor: pass it in the client's `interceptors` option. The span's parent is
 * the context active when the call is made.
 */
export function createTracingClientInterceptor(): Interceptor {
  return (options, nextCall) => {
    const { service, method, spanName } = splitPath(options.method_definition.path);
    const parent = context.active();
    const span = trace.getTracer(TRACER_NAME).startSpan(
      spanName,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
      },
      parent,
    );
    const spanContext = trace.setSpan(parent, span);
    let ended = false;
    return new InterceptingCall(nextCall(options), {
      // The caller's listener is chained after ours by grpc-js, so it is not touched here.
      start(metadata, _listener, next) {
        verdictPropagator.inject(spanContext, metadata, metadataSetter);
        next(metadata, {
          onReceiveStatus(status: StatusObject, nextStatus: (s: StatusObject) => void) {
            if (!ended) {
              ended = true;
              endWithStatus(span, status.code, status.details);
            }
            nextStatus(status);
          },
        });
      },
    });
  };
}

/**
 * Server interceptor: pass it in `new grpc.Server({ interceptors: [...] })` (or the
 * runtime's server factory hook). Every listener callback runs inside the SERVER span's
 * context, so the handler (unary, streaming, sync or async) sees it as the active span.
 */
export function createTracingServerInterceptor(): ServerInterceptor {
  return (methodDescriptor, call) => {
    const { service, method, spanName } = splitPath(methodDescriptor.path);
    let span: Span | undefined;
    let spanContext: Context = ROOT_CONTEXT;
    const finish = (code: number, details: string | undefined): void => {
      if (span === undefined) return;
      const s = span;
      span = undefined;
      endWithStatus(s, code, details);
    };
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const parent = extractGrpcContext(metadata);
            span = trace.getTracer(TRACER_NAME).startSpan(
              spanName,
              {
                kind: SpanKind.SERVER,
                attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
              },
              parent,
            );
            spanContext = trace.setSpan(parent, span);
            context.with(spanContext, () => nextMetadata(metadata));
          },
          onReceiveMessage(message, nextMessage) {
            context.with(spanContext, () => nextMessage(message));
          },
          onReceiveHalfClose(nextHalfClose) {
            context.with(spanContext, () => nextHalfClose());
          },
          onCancel() {
            finish(GrpcStatus.CANCELLED, 'cancelled by the client');
          },
        });
      },
      sendStatus(status, nextStatus) {
        finish(status.code ?? GrpcStatus.UNKNOWN, status.details);
        nextStatus(status);
      },
    });
  };
}
