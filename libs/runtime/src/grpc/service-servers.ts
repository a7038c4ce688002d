// The gRPC server(s) of one Verdict service: the main server (TLS when configured) and, when a
// health port is configured, a plaintext server with only grpc.health.v1 reading the main
// server's status table. Kubernetes gRPC probes cannot do TLS, so that port is what they dial;
// it reports exactly what the TLS port would. Every service creates its servers here, so the
// five share one code path and one start log line (`grpc: tls (mutual)`, …).
import type { RuntimeLogger } from '../lifecycle/logger.js';
import { createGrpcServer, type GrpcServer, type GrpcServerOptions } from './server.js';
import type { GrpcServerTlsPem } from './tls-config.js';

export interface ServiceGrpcServersOptions extends Omit<GrpcServerOptions, 'tls' | 'credentials' | 'health'> {
  /** The service name: the main server's name, `<name>-health` for the probe server. */
  name: string;
  /** Both servers log here, and so does logTransport(). */
  logger: RuntimeLogger;
  /** PEM from grpcServerTlsFromConfig; undefined = plaintext. */
  tls: GrpcServerTlsPem | undefined;
  /** Plaintext health-only port (0 = any); undefined = none. */
  healthPort: number | undefined;
}

export interface ServiceGrpcServers {
  readonly server: GrpcServer;
  /** The plaintext health-only server; undefined without a health port. */
  readonly healthServer: GrpcServer | undefined;
  /**
   * Logs `grpc: <transport>` with the configured ports (never the TLS material). Call it in the
   * app's start() so an operator sees at once whether the port is plaintext, TLS or mutual TLS.
   */
  logTransport(): void;
  /** The health server's `host:port` once started; undefined without one. */
  readonly healthAddress: string | undefined;
}

export function createServiceGrpcServers(options: ServiceGrpcServersOptions): ServiceGrpcServers {
  const { tls, healthPort, ...common } = options;
  const server = createGrpcServer({
    ...common,
    ...(tls !== undefined
      ? {
          tls: {
            cert: tls.cert,
            key: tls.key,
            ...(tls.clientCa !== undefined ? { clientCa: tls.clientCa } : {}),
          },
        }
      : {}),
  });
  const healthServer =
    healthPort === undefined
      ? undefined
      : createGrpcServer({
          name: `${options.name}-health`,
          port: healthPort,
          health: server.health,
          ...(options.host !== undefined ? { host: options.host } : {}),
          ...(options.lifecycle !== undefined ? { lifecycle: options.lifecycle } : {}),
          logger: options.logger,
          ...(options.graceTimeoutMs !== undefined ? { graceTimeoutMs: options.graceTimeoutMs } : {}),
        });
  return {
    server,
    healthServer,
    logTransport() {
      options.logger.info(`grpc: ${server.transport}`, {
        port: options.port,
        ...(healthPort !== undefined ? { healthPort } : {}),
      });
    },
    get healthAddress() {
      return healthServer?.address;
    },
  };
}
