import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Histogram, Meter } from '@opentelemetry/api';
import { createMetrics } from './metrics.js';

/**
 * RPC metrics through the gRPC server's call-observer hook (`createGrpcServer({ observers })`):
 * one histogram `rpc_server_duration_ms` by service, method and status code. Structural types,
 * so this module does not depend on the server module.
 */
export interface GrpcMetricsObserver {
  onCallStart(call: { method: string }): { onCallEnd(end: { code: number; durationMs: number }): void };
}

export function createGrpcMetricsObserver(meter?: Meter): GrpcMetricsObserver {
  let duration: Histogram | undefined;
  return {
    onCallStart({ method }) {
      // Created on first use, so an observer made before startTelemetry still records.
      duration ??= createMetrics(meter).histogram('rpc_server_duration_ms', 'gRPC server call duration');
      const histogram = duration;
      const trimmed = method.startsWith('/') ? method.slice(1) : method;
      const slash = trimmed.lastIndexOf('/');
      return {
        onCallEnd({ code, durationMs }) {
          histogram.record(durationMs, {
            'rpc.system': 'grpc',
            'rpc.service': slash >= 0 ? trimmed.slice(0, slash) : '',
            'rpc.method': slash >= 0 ? trimmed.slice(slash + 1) : trimmed,
            'rpc.grpc.status_code': GrpcStatus[code] ?? String(code),
          });
        },
      };
    },
  };
}
