import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * A span exporter that keeps finished spans in memory, for tests:
 * `startTelemetry({ serviceName, traceExporter: exporter })`, then `exporter.getFinishedSpans()`.
 * Lets other packages assert on spans without depending on the OTel SDK themselves.
 */
export function createInMemorySpanExporter(): InMemorySpanExporter {
  return new InMemorySpanExporter();
}

/** A finished span as exporters (and `InMemorySpanExporter.getFinishedSpans()`) see it. */
export type { ReadableSpan as FinishedSpan } from '@opentelemetry/sdk-trace-base';
