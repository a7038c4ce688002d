import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Where telemetry reports its own trouble; a structured logger with `warn` fits. */
export interface TelemetryLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const consoleTelemetryLogger: TelemetryLogger = {
  warn: (message, fields) => console.warn(`[telemetry] ${message}`, fields ?? ''),
};

/**
 * Logs the first failure of each source and stays quiet until that source succeeds again,
 * so an unreachable collector costs one log line per outage instead of one per batch.
 */
export interface FailureReporter {
  failed(source: string, err: unknown): void;
  succeeded(source: string): void;
  /** Failures seen per source since start (for tests and health detail). */
  counts(): Record<string, number>;
}

export function createFailureReporter(logger: TelemetryLogger): FailureReporter {
  const failing = new Set<string>();
  const totals: Record<string, number> = {};
  return {
    failed(source, err) {
      totals[source] = (totals[source] ?? 0) + 1;
      if (failing.has(source)) return;
      failing.add(source);
      const message = err instanceof Error ? err.message : String(err);
      logger.warn(`${source} failed; further failures are suppressed until it recovers`, { error: message });
    },
    succeeded(source) {
      if (failing.delete(source)) logger.warn(`${source} recovered`);
    },
    counts: () => ({ ...totals }),
  };
}

function observe(reporter: FailureReporter, source: string, cb: (result: ExportResult) => void) {
  return (result: ExportResult): void => {
    if (result.code === ExportResultCode.SUCCESS) reporter.succeeded(source);
    else reporter.failed(source, result.error ?? new Error('export failed'));
    cb(result);
  };
}

/** Wraps a span exporter so that failures (thrown or reported) are logged once and swallowed. */
export function createSafeSpanExporter(inner: SpanExporter, reporter: FailureReporter): SpanExporter {
  const source = 'trace export';
  return {
    export(spans: ReadableSpan[], cb) {
      try {
        inner.export(spans, observe(reporter, source, cb));
      } catch (err) {
        reporter.failed(source, err);
        cb({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
      }
    },
    shutdown: () => inner.shutdown().catch((err: unknown) => reporter.failed(source, err)),
    forceFlush: () =>
      (inner.forceFlush?.() ?? Promise.resolve()).catch((err: unknown) => reporter.failed(source, err)),
  };
}

/** Same as createSafeSpanExporter, for push metric exporters (OTLP). */
export function createSafeMetricExporter(
  inner: PushMetricExporter,
  reporter: FailureReporter,
): PushMetricExporter {
  const source = 'metric export';
  const safe: PushMetricExporter = {
    export(data: ResourceMetrics, cb) {
      try {
        inner.export(data, observe(reporter, source, cb));
      } catch (err) {
        reporter.failed(source, err);
        cb({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
      }
    },
    shutdown: () => inner.shutdown().catch((err: unknown) => reporter.failed(source, err)),
    forceFlush: () => inner.forceFlush().catch((err: unknown) => reporter.failed(source, err)),
  };
  // Temporality and aggregation choices belong to the wrapped exporter (OTLP has preferences).
  if (inner.selectAggregationTemporality) {
    safe.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner);
  }
  if (inner.selectAggregation) safe.selectAggregation = inner.selectAggregation.bind(inner);
  return safe;
}
