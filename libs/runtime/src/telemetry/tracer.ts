import type { Meter, Tracer } from '@opentelemetry/api';
import { context, isSpanContextValid, metrics, trace } from '@opentelemetry/api';

/** Instrumentation scope of the spans and metrics the runtime itself creates. */
export const TRACER_NAME = '@verdict/runtime';

/**
 * The tracer for `name` from the global provider. Looked up per use on purpose: the API's
 * proxy tracers pin the first provider they see, so a cached tracer would keep writing to a
 * provider that a later `startTelemetry` (tests, restarts) replaced.
 */
export function getTracer(name: string = TRACER_NAME): Tracer {
  return trace.getTracer(name);
}

/**
 * The meter for `name` from the global provider. Instruments created before
 * `startTelemetry` are no-ops forever, so create them after it (or from `telemetry.meter`).
 */
export function getMeter(name: string = TRACER_NAME): Meter {
  return metrics.getMeter(name);
}

/**
 * `{ trace_id, span_id }` of the active span, for log lines (empty when there is none), so a
 * log entry can be found from its trace and vice versa.
 */
export function getTraceLogFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getSpanContext(context.active());
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
