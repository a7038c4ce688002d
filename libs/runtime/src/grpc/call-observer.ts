// The interceptor layer: one grpc-js server interceptor that tracks in-flight calls (for the
// drain report) and tells pluggable observers when each call starts and ends. Logging is one
// observer (below); telemetry plugs tracing/metrics in through the same small interface.
import {
  status as GrpcStatus,
  type Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { RuntimeLogger } from '../lifecycle/logger.js';

export interface GrpcCallStart {
  /** Full method path, e.g. `/grpc.health.v1.Health/Check`. */
  method: string;
  metadata: Metadata;
  peer: string;
}

export interface GrpcCallEnd {
  code: GrpcStatus;
  details: string;
  durationMs: number;
}

export interface GrpcCallObserver {
  /** Return a scope to be told how the call ended (e.g. a span), or nothing. */
  onCallStart(call: GrpcCallStart): { onCallEnd(end: GrpcCallEnd): void } | undefined;
}

/** Logs each finished call: debug when OK, warn for client-side codes, error for INTERNAL. */
export function createLoggingObserver(logger: RuntimeLogger): GrpcCallObserver {
  return {
    onCallStart: ({ method, peer }) => ({
      onCallEnd: ({ code, details, durationMs }) => {
        const fields = { method, peer, code: GrpcStatus[code], durationMs };
        if (code === GrpcStatus.OK) logger.debug('grpc call', fields);
        else if (
          code === GrpcStatus.INTERNAL ||
          code === GrpcStatus.UNKNOWN ||
          code === GrpcStatus.DATA_LOSS
        ) {
          logger.error('grpc call failed', { ...fields, details });
        } else logger.warn('grpc call failed', { ...fields, details });
      },
    }),
  };
}

export interface CallTracker {
  readonly inFlight: number;
  interceptor: ServerInterceptor;
}

export function createCallTracker(
  observers: readonly GrpcCallObserver[],
  logger: RuntimeLogger,
): CallTracker {
  let inFlight = 0;
  const interceptor: ServerInterceptor = (descriptor, call: ServerInterceptingCallInterface) => {
    const startedAtMs = performance.now();
    let scopes: Array<{ onCallEnd(end: GrpcCallEnd): void }> = [];
    let ended = false;
    inFlight += 1;
    const end = (code: GrpcStatus, details: string): void => {
      if (ended) return;
      ended = true;
      inFlight -= 1;
      const durationMs = performance.now() - startedAtMs;
      for (const scope of scopes) {
        try {
          scope.onCallEnd({ code, details, durationMs });
        } catch (error) {
          logger.warn('grpc call observer failed', { error });
        }
      }
    };
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            scopes = observers.flatMap((observer) => {
              try {
                const scope = observer.onCallStart({
                  method: descriptor.path,
                  metadata,
                  peer: call.getPeer(),
                });
                return scope === undefined ? [] : [scope];
              } catch (error) {
                logger.warn('grpc call observer failed', { error });
                return [];
              }
            });
            nextMetadata(metadata);
          },
          onCancel: () => end(GrpcStatus.CANCELLED, 'cancelled'),
        });
      },
      sendStatus: (status, next) => {
        end(status.code, status.details);
        next(status);
      },
    });
  };
  return {
    get inFlight() {
      return inFlight;
    },
    interceptor,
  };
}
