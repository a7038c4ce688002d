import type { LifecycleComponent } from '../lifecycle/index.js';
import { startTelemetry, type Telemetry } from './start-telemetry.js';

export interface TelemetryComponentOptions {
  readonly serviceName: string;
  readonly otlpEndpoint?: string | undefined;
  readonly prometheusPort?: number | undefined;
  /** Overrides the default (on when an OTLP endpoint or a Prometheus port is configured). */
  readonly enabled?: boolean | undefined;
}

/**
 * The telemetry of one service as a lifecycle component: started first, shut down last (register it
 * before the components whose spans it should export). Off unless an exporter is configured, so a
 * service in a test or the one-process stack does not claim the process-wide SDK.
 */
export function telemetryComponent(options: TelemetryComponentOptions): LifecycleComponent & {
  readonly enabled: boolean;
} {
  const enabled =
    options.enabled ?? (options.otlpEndpoint !== undefined || options.prometheusPort !== undefined);
  let telemetry: Telemetry | undefined;
  return {
    name: 'telemetry',
    enabled,
    start: async () => {
      if (!enabled) return;
      telemetry = await startTelemetry({
        serviceName: options.serviceName,
        ...(options.otlpEndpoint === undefined ? {} : { otlpEndpoint: options.otlpEndpoint }),
        ...(options.prometheusPort === undefined ? {} : { prometheusPort: options.prometheusPort }),
      });
    },
    stop: () => telemetry?.shutdown(),
  };
}
