// Public surface of the telemetry module. The OTel SDK stays inside this folder; other code
// uses these helpers or `@opentelemetry/api`.
export type { FailureReporter, TelemetryLogger } from './failure-reporter.js';
export { consoleTelemetryLogger } from './failure-reporter.js';
export type { GrpcMetricsObserver } from './grpc-metrics.js';
export { createGrpcMetricsObserver } from './grpc-metrics.js';
export {
  createTracingClientInterceptor,
  createTracingServerInterceptor,
  extractGrpcContext,
  injectGrpcMetadata,
} from './grpc-tracing.js';
export type { FinishedSpan } from './in-memory.js';
export { createInMemorySpanExporter } from './in-memory.js';
export type { ProducerSpanOptions, TracedMessage } from './messaging-tracing.js';
export { natsTraceHooks, withConsumerSpan, withProducerSpan } from './messaging-tracing.js';
export type { MetricsFactory } from './metrics.js';
export { createMetrics } from './metrics.js';
export type { HeaderCarrier } from './propagation.js';
export { extractTraceContext, injectTraceHeaders, verdictPropagator } from './propagation.js';
export type { Telemetry, TelemetryOptions } from './start-telemetry.js';
export { startTelemetry } from './start-telemetry.js';
export { type TelemetryComponentOptions, telemetryComponent } from './telemetry-component.js';
export { getMeter, getTraceLogFields, getTracer, TRACER_NAME } from './tracer.js';
