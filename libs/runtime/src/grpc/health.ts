// The standard grpc.health.v1.Health service (Check + Watch) over a per-service status table.
// A service reports SERVING only while the server is serving (driven by the Lifecycle, or by
// start/stop without one) AND the service itself is marked ready.
import { health } from '@verdict/proto';
import { clientText } from '../errors/client-text.js';
import { VerdictError } from '../errors/verdict-error.js';
import { serverStream, unary } from './handlers.js';

export const ServingStatus = health.HealthCheckResponse_ServingStatus;
export type ServingStatus = health.HealthCheckResponse_ServingStatus;

/** The service name clients use for "the whole server". */
export const OVERALL_SERVICE = '';

interface Watcher {
  service: string;
  last: ServingStatus | undefined;
  push(status: ServingStatus): void;
  close(): void;
}

export class HealthStatusRegistry {
  private serving = false;
  private readonly ready = new Map<string, boolean>();
  private readonly watchers = new Set<Watcher>();
  private closed = false;

  /** Make a service known (NOT_SERVING until the server serves; ready by default). */
  register(service: string, ready = true): void {
    if (!this.ready.has(service)) this.ready.set(service, ready);
    this.notify();
  }

  /** Per-service readiness, e.g. not ready until its model is loaded. */
  setReady(service: string, ready: boolean): void {
    if (!this.ready.has(service)) {
      throw new VerdictError('NOT_FOUND', `unknown service ${service}`, { field: 'service' });
    }
    this.ready.set(service, ready);
    this.notify();
  }

  /** Whole-server switch: SERVING only when the server (or its lifecycle) is serving. */
  setServing(serving: boolean): void {
    this.serving = serving;
    this.notify();
  }

  get isServing(): boolean {
    return this.serving;
  }

  /** Undefined for a service this server does not host. */
  status(service: string): ServingStatus | undefined {
    if (service === OVERALL_SERVICE) {
      const allReady = [...this.ready.values()].every(Boolean);
      return this.serving && allReady ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    }
    const ready = this.ready.get(service);
    if (ready === undefined) return undefined;
    return this.serving && ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  /** The current status, then every change, until closeWatchers() or the signal aborts. */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    const queue: ServingStatus[] = [];
    let ended = this.closed;
    let wake: (() => void) | undefined;
    const watcher: Watcher = {
      service,
      last: undefined,
      push: (status) => {
        if (status === watcher.last) return; // Watch sends changes only
        watcher.last = status;
        queue.push(status);
        wake?.();
      },
      close: () => {
        ended = true;
        wake?.();
      },
    };
    const onAbort = (): void => watcher.close();
    signal.addEventListener('abort', onAbort, { once: true });
    this.watchers.add(watcher);
    watcher.push(this.status(service) ?? ServingStatus.SERVICE_UNKNOWN);
    try {
      while (true) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (ended || signal.aborted) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.watchers.delete(watcher);
    }
  }

  /** End every Watch stream (after delivering pending updates) so a drain is not held open. */
  closeWatchers(): void {
    this.closed = true;
    for (const watcher of this.watchers) watcher.close();
  }

  private notify(): void {
    for (const watcher of this.watchers) {
      watcher.push(this.status(watcher.service) ?? ServingStatus.SERVICE_UNKNOWN);
    }
  }
}

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

export function createHealthImplementation(registry: HealthStatusRegistry) {
  return {
    check: unary<health.HealthCheckRequest, health.HealthCheckResponse>((request) => {
      const status = registry.status(request.service);
      if (status === undefined) {
        // Per the health protocol, Check on an unknown service is NOT_FOUND.
        throw new VerdictError('NOT_FOUND', `unknown service ${clientText(request.service)}`, {
          field: 'service',
        });
      }
      return { status };
    }),
    watch: serverStream<health.HealthCheckRequest, health.HealthCheckResponse>(
      async function* (request, ctx) {
        for await (const status of registry.watch(request.service, ctx.signal)) yield { status };
      },
    ),
  };
}
