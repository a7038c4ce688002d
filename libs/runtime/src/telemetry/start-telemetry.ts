import type { Attributes, Meter, Tracer } from '@opentelemetry/api';
import { context, createNoopMeter, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { FailureReporter, TelemetryLogger } from './failure-reporter.js';
import {
  consoleTelemetryLogger,
  createFailureReporter,
  createSafeMetricExporter,
  createSafeSpanExporter,
} from './failure-reporter.js';
import type { PrometheusEndpoint } from './prometheus-endpoint.js';
import { startPrometheusEndpoint } from './prometheus-endpoint.js';
import { verdictPropagator } from './propagation.js';
import { TRACER_NAME } from './tracer.js';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Extra resource attributes, e.g. `{ 'deployment.environment.name': 'dev' }`. */
  resourceAttributes?: Attributes;
  /** `false` gives a no-op telemetry (context still propagates across wires). Default true. */
  enabled?: boolean;
  /** OTLP/HTTP base URL (e.g. `http://collector:4318`); traces go to `/v1/traces`, metrics to `/v1/metrics`. */
  otlpEndpoint?: string;
  /** An extra span exporter (tests: `createInMemorySpanExporter()`); spans go to it synchronously. */
  traceExporter?: SpanExporter;
  /** Fraction of new traces sampled, 0..1 (children follow their parent's decision). Default 1. */
  samplerRatio?: number;
  /** Serve Prometheus text format on `GET /metrics` at this port (0 = any free port). */
  prometheusPort?: number;
  prometheusHost?: string;
  /** OTLP metric push interval. Default 15000. */
  metricsExportIntervalMs?: number;
  /** Time limit of one OTLP export request. Default 5000. */
  exportTimeoutMs?: number;
  /** `shutdown()` resolves after at most this long even if the collector hangs. Default 5000. */
  shutdownTimeoutMs?: number;
  logger?: TelemetryLogger;
}

export interface Telemetry {
  /** False when disabled or when bootstrap failed (then tracer and meter are no-ops). */
  enabled: boolean;
  tracer: Tracer;
  meter: Meter;
  /** The bound Prometheus port when `prometheusPort` was given and the endpoint started. */
  prometheusPort: number | undefined;
  /** Export failures counted per source ('trace export', 'metric export', 'telemetry'). */
  failureCounts(): Record<string, number>;
  /** Pushes buffered spans and metrics now; never rejects. */
  forceFlush(): Promise<void>;
  /** Flushes, stops exporters and the endpoint, unregisters globals; never rejects. */
  shutdown(): Promise<void>;
}

let activeCount = 0;

function noopTelemetry(): Telemetry {
  return {
    enabled: false,
    tracer: trace.getTracer(TRACER_NAME),
    meter: createNoopMeter(),
    prometheusPort: undefined,
    failureCounts: () => ({}),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

function settleWithin(promises: Promise<unknown>[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  return Promise.race([Promise.allSettled(promises).then(() => undefined), timeout]).finally(() =>
    clearTimeout(timer),
  );
}

function validate(options: TelemetryOptions): void {
  if (options.serviceName.trim() === '') throw new Error('serviceName must not be empty');
  const ratio = options.samplerRatio;
  if (ratio !== undefined && !(ratio >= 0 && ratio <= 1)) {
    throw new Error(`samplerRatio must be within [0, 1], got ${ratio}`);
  }
  const port = options.prometheusPort;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new Error(`prometheusPort must be an integer in [0, 65535], got ${port}`);
  }
  if (options.otlpEndpoint !== undefined) new URL(options.otlpEndpoint);
}

function otlpUrl(base: string, signal: 'traces' | 'metrics'): string {
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

/**
 * Starts tracing and metrics for one process and registers them as the OpenTelemetry
 * globals (so `@opentelemetry/api` users and this module's gRPC/NATS helpers pick them up).
 * Telemetry never stops a service: invalid options or a failing bootstrap log one warning
 * and yield a no-op telemetry; exporter failures are logged once per outage and swallowed.
 * One telemetry may be active per process; shut it down before starting another.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const logger = options.logger ?? consoleTelemetryLogger;
  if (options.enabled === false) return noopTelemetry();
  if (activeCount > 0) {
    logger.warn('startTelemetry called while another telemetry is active; returning a no-op telemetry');
    return noopTelemetry();
  }
  const reporter = createFailureReporter(logger);
  let prometheus: PrometheusEndpoint | undefined;
  try {
    validate(options);
    const exportTimeoutMs = options.exportTimeoutMs ?? 5000;
    // SDK defaults < detected (OTEL_RESOURCE_ATTRIBUTES, host, a per-process instance id) <
    // explicit options. No process detector: it records command-line arguments.
    const resource = defaultResource()
      .merge(detectResources({ detectors: [envDetector, hostDetector, serviceInstanceIdDetector] }))
      .merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: options.serviceName,
          ...(options.serviceVersion === undefined ? {} : { [ATTR_SERVICE_VERSION]: options.serviceVersion }),
          ...options.resourceAttributes,
        }),
      );
    // Settle detector results (host.id is read asynchronously) now: otherwise every span
    // processor defers its exports until they resolve, and spans end up out of order.
    await settleWithin([resource.waitForAsyncAttributes?.() ?? Promise.resolve()], 1_000);

    const spanProcessors: SpanProcessor[] = [];
    if (options.traceExporter !== undefined) {
      spanProcessors.push(new SimpleSpanProcessor(createSafeSpanExporter(options.traceExporter, reporter)));
    }
    if (options.otlpEndpoint !== undefined) {
      const otlp = new OTLPTraceExporter({
        url: otlpUrl(options.otlpEndpoint, 'traces'),
        timeoutMillis: exportTimeoutMs,
      });
      spanProcessors.push(
        new BatchSpanProcessor(createSafeSpanExporter(otlp, reporter), {
          exportTimeoutMillis: exportTimeoutMs,
        }),
      );
    }
    const tracerProvider = new NodeTracerProvider({
      resource,
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplerRatio ?? 1) }),
      spanProcessors,
    });

    const readers: IMetricReader[] = [];
    if (options.otlpEndpoint !== undefined) {
      const otlp = new OTLPMetricExporter({
        url: otlpUrl(options.otlpEndpoint, 'metrics'),
        timeoutMillis: exportTimeoutMs,
      });
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: createSafeMetricExporter(otlp, reporter),
          exportIntervalMillis: options.metricsExportIntervalMs ?? 15000,
          exportTimeoutMillis: exportTimeoutMs,
        }),
      );
    }
    if (options.prometheusPort !== undefined) {
      prometheus = await startPrometheusEndpoint({
        port: options.prometheusPort,
        ...(options.prometheusHost === undefined ? {} : { host: options.prometheusHost }),
      });
      readers.push(prometheus.reader);
    }
    const meterProvider = new MeterProvider({ resource, readers });

    // Registration comes last so a failure above leaves no half-registered globals.
    setGlobalErrorHandler((err) => reporter.failed('telemetry', err));
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(verdictPropagator);
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    activeCount += 1;

    return createActiveTelemetry({ options, tracerProvider, meterProvider, prometheus, reporter });
  } catch (err) {
    await prometheus?.close().catch(() => {});
    logger.warn('telemetry bootstrap failed; continuing without telemetry', {
      error: err instanceof Error ? err.message : String(err),
    });
    return noopTelemetry();
  }
}

function createActiveTelemetry(parts: {
  options: TelemetryOptions;
  tracerProvider: NodeTracerProvider;
  meterProvider: MeterProvider;
  prometheus: PrometheusEndpoint | undefined;
  reporter: FailureReporter;
}): Telemetry {
  const { options, tracerProvider, meterProvider, prometheus, reporter } = parts;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5000;
  let stopped: Promise<void> | undefined;
  const guard = (p: Promise<unknown>): Promise<unknown> =>
    p.catch((err: unknown) => reporter.failed('telemetry', err));
  return {
    enabled: true,
    tracer: tracerProvider.getTracer(options.serviceName, options.serviceVersion),
    meter: meterProvider.getMeter(options.serviceName, options.serviceVersion),
    prometheusPort: prometheus?.port,
    failureCounts: () => reporter.counts(),
    forceFlush: () =>
      settleWithin(
        [guard(tracerProvider.forceFlush()), guard(meterProvider.forceFlush())],
        shutdownTimeoutMs,
      ),
    shutdown() {
      stopped ??= (async () => {
        await settleWithin(
          [
            guard(tracerProvider.shutdown()),
            guard(meterProvider.shutdown()),
            guard(prometheus?.close() ?? Promise.resolve()),
          ],
          shutdownTimeoutMs,
        );
        trace.disable();
        metrics.disable();
        propagation.disable();
        context.disable();
        setGlobalErrorHandler(loggingErrorHandler());
        activeCount -= 1;
      })();
      return stopped;
    },
  };
}
