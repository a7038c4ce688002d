// createGrpcServer: bind host:port, host services through the handler adapters, serve the
// standard health service driven by the lifecycle, and drain gracefully: health NOT_SERVING,
// new calls refused, in-flight calls (streams too) finish within the grace timeout, then force.
import {
  type ChannelOptions,
  Server,
  type ServerCredentials,
  type ServerInterceptor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { health } from '@verdict/proto';
import { VerdictError } from '../errors/verdict-error.js';
import type { Lifecycle, LifecycleComponent, StopContext } from '../lifecycle/lifecycle.js';
import { createStderrLogger, type RuntimeLogger } from '../lifecycle/logger.js';
import { createCallTracker, createLoggingObserver, type GrpcCallObserver } from './call-observer.js';
import { bindHandler } from './handlers.js';
import { createHealthImplementation, HEALTH_SERVICE_NAME, HealthStatusRegistry } from './health.js';
import { withTolerantDecoders } from './malformed-request.js';
import {
  createGrpcServerCredentials,
  type GrpcServerTlsOptions,
  type GrpcTransport,
  grpcTransportOf,
  resolveGrpcServerTls,
} from './server-tls.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface GrpcServerOptions {
  /** Used in logs and as the lifecycle component name. Default `grpc-server`. */
  name?: string;
  /** Default `0.0.0.0`. */
  host?: string;
  /** 0 picks a free port; read the real one from `server.port` after start(). */
  port: number;
  maxReceiveMessageBytes?: number;
  maxSendMessageBytes?: number;
  /** How long in-flight calls may run after stop() before forceShutdown(). Default 10 s. */
  graceTimeoutMs?: number;
  /**
   * Keep accepting calls this long after health turns NOT_SERVING, so load balancers notice
   * before connections are refused. Default 0.
   */
  drainDelayMs?: number;
  /** When given, health is SERVING only while the lifecycle is SERVING. */
  lifecycle?: Lifecycle;
  logger?: RuntimeLogger;
  /** Told about every call (tracing, metrics). A logging observer is always installed. */
  observers?: readonly GrpcCallObserver[];
  /** Raw grpc-js server interceptors, run after the built-in one. */
  interceptors?: readonly ServerInterceptor[];
  /** TLS (mutual when client certificates are required); read and checked by createGrpcServer. Default plaintext. */
  tls?: GrpcServerTlsOptions;
  /** Raw grpc-js credentials instead of `tls` (not both). */
  credentials?: ServerCredentials;
  /**
   * Serve this status table instead of a new one: a plaintext health-only server beside a TLS
   * one (Kubernetes gRPC probes do not speak TLS) reports exactly what the main server does.
   */
  health?: HealthStatusRegistry;
  channelOptions?: ChannelOptions;
}

export interface GrpcServerStopReport {
  /** Calls still running at the grace timeout and cut off by forceShutdown(). */
  abandonedCalls: number;
  forced: boolean;
}

export interface GrpcServer extends LifecycleComponent {
  readonly name: string;
  readonly health: HealthStatusRegistry;
  /** The bound port (throws before start()). */
  readonly port: number;
  /** `host:port` for clients on this machine (0.0.0.0 becomes 127.0.0.1). */
  readonly address: string;
  readonly inFlightCalls: number;
  /** `plaintext`, `tls (server auth)` or `tls (mutual)`; `custom credentials` when raw credentials were given. */
  readonly transport: GrpcTransport | 'custom credentials';
  /** Host a service; handlers made with unary()/serverStream()/... get this server's logger. */
  addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): this;
  start(): Promise<void>;
  /** Graceful stop (idempotent). `ctx` from a Lifecycle shortens the grace to its deadline. */
  stop(ctx?: Partial<StopContext>): Promise<GrpcServerStopReport>;
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const name = options.name ?? 'grpc-server';
  const host = options.host ?? '0.0.0.0';
  const logger = options.logger ?? createStderrLogger(name);
  const graceTimeoutMs = options.graceTimeoutMs ?? 10_000;
  const drainDelayMs = options.drainDelayMs ?? 0;
  const tracker = createCallTracker([createLoggingObserver(logger), ...(options.observers ?? [])], logger);
  const server = new Server({
    ...options.channelOptions,
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    interceptors: [tracker.interceptor, ...(options.interceptors ?? [])],
  });
  if (options.tls !== undefined && options.credentials !== undefined) {
    throw new VerdictError('INVALID_ARGUMENT', `${name}: give tls or credentials, not both`, {
      field: 'tls',
    });
  }
  const tls = options.tls === undefined ? undefined : resolveGrpcServerTls(options.tls);
  const credentials = options.credentials ?? createGrpcServerCredentials(tls);
  const transport = options.credentials === undefined ? grpcTransportOf(tls) : 'custom credentials';
  const registry = options.health ?? new HealthStatusRegistry();
  const env = { logger };
  let boundPort: number | undefined;
  let startPromise: Promise<void> | undefined;
  let stopPromise: Promise<GrpcServerStopReport> | undefined;

  const addService = (definition: ServiceDefinition, implementation: UntypedServiceImplementation): void => {
    if (startPromise !== undefined) {
      throw new VerdictError('FAILED_PRECONDITION', `${name}: addService after start`);
    }
    const bound: UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(implementation)) bound[method] = bindHandler(handler, env);
    server.addService(withTolerantDecoders(definition), bound);
    const serviceName = serviceNameOf(definition);
    if (serviceName !== undefined && serviceName !== HEALTH_SERVICE_NAME) registry.register(serviceName);
  };
  addService(health.HealthService, createHealthImplementation(registry));

  if (options.lifecycle !== undefined) {
    const lifecycle = options.lifecycle;
    registry.setServing(lifecycle.state === 'SERVING');
    lifecycle.onStateChange((state) => registry.setServing(state === 'SERVING'));
  }

  const start = async (): Promise<void> => {
    boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${options.port}`, credentials, (error, port) =>
        error === null
          ? resolve(port)
          : reject(
              new VerdictError(
                'UNAVAILABLE',
                `${name}: cannot bind ${host}:${options.port}: ${error.message}`,
                { cause: error },
              ),
            ),
      );
    });
    if (options.lifecycle === undefined) registry.setServing(true);
    logger.info('grpc server listening', { server: name, host, port: boundPort, transport });
  };

  const stop = async (ctx: Partial<StopContext>): Promise<GrpcServerStopReport> => {
    registry.setServing(false);
    registry.closeWatchers();
    if (startPromise === undefined) return { abandonedCalls: 0, forced: false };
    await startPromise.catch(() => undefined);
    const deadlineMs = Math.min(Date.now() + graceTimeoutMs, ctx.deadlineMs ?? Number.POSITIVE_INFINITY);
    if (drainDelayMs > 0)
      await sleep(Math.min(drainDelayMs, Math.max(0, deadlineMs - Date.now())), ctx.signal);
    const outcome = await new Promise<'clean' | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), Math.max(0, deadlineMs - Date.now()));
      ctx.signal?.addEventListener('abort', () => resolve('timeout'), { once: true });
      // Stops listening and sends GOAWAY: new calls are refused, open calls run to completion.
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve('clean');
      });
    });
    if (outcome === 'clean') {
      logger.info('grpc server stopped', { server: name });
      return { abandonedCalls: 0, forced: false };
    }
    const abandonedCalls = tracker.inFlight;
    server.forceShutdown();
    logger.warn('grpc server grace timeout: forced shutdown', { server: name, abandonedCalls });
    return { abandonedCalls, forced: true };
  };

  const api: GrpcServer = {
    name,
    health: registry,
    get port() {
      if (boundPort === undefined) throw new VerdictError('FAILED_PRECONDITION', `${name} is not started`);
      return boundPort;
    },
    get address() {
      return `${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${api.port}`;
    },
    get inFlightCalls() {
      return tracker.inFlight;
    },
    transport,
    addService(definition, implementation) {
      addService(definition, implementation);
      return api;
    },
    start() {
      startPromise ??= start();
      return startPromise;
    },
    stop(ctx = {}) {
      stopPromise ??= stop(ctx);
      return stopPromise;
    },
  };
  return api;
}

/** `/pkg.Service/Method` → `pkg.Service`. */
function serviceNameOf(definition: ServiceDefinition): string | undefined {
  const first = Object.values(definition)[0];
  const match = first === undefined ? null : /^\/([^/]+)\//.exec(first.path);
  return match?.[1];
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
