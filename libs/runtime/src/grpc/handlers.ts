// Handler adapters: write gRPC handlers as async functions and async generators. Whatever they
// throw goes through the one VerdictError → status boundary (toGrpcStatus), and a call can be
// answered exactly once: no double callback, no write after end, no write after cancel.
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerDuplexStream,
  ServerReadableStream,
  ServerWritableStream,
} from '@grpc/grpc-js';
import { toGrpcStatus } from '../errors/grpc-status.js';
import { VerdictError } from '../errors/verdict-error.js';
import { createStderrLogger, type RuntimeLogger } from '../lifecycle/logger.js';
import {
  ABORTED,
  type CallContext,
  createCallContext,
  type ServerCallLike,
  whenAborted,
} from './call-context.js';
import { decodedRequest } from './malformed-request.js';

/** What a server gives the adapters it hosts (see createGrpcServer's addService). */
export interface HandlerEnvironment {
  logger: RuntimeLogger;
}

const BIND = Symbol.for('verdict.grpc.bindHandler');

/** A grpc-js handler that can be re-created with a server's environment (its logger). */
export type AdaptedHandler<H> = H & { [BIND]: (env: HandlerEnvironment) => H };

let defaultEnvironment: HandlerEnvironment | undefined;
function fallbackEnvironment(): HandlerEnvironment {
  defaultEnvironment ??= { logger: createStderrLogger('grpc') };
  return defaultEnvironment;
}

function adapt<H>(make: (env: HandlerEnvironment) => H): AdaptedHandler<H> {
  let handler: H | undefined;
  // Used as-is (outside createGrpcServer) the adapter logs to stderr.
  const standalone = ((...args: unknown[]) => {
    handler ??= make(fallbackEnvironment());
    return (handler as (...a: unknown[]) => unknown)(...args);
  }) as H;
  return Object.assign(standalone as object, { [BIND]: make }) as AdaptedHandler<H>;
}

/** Re-create an adapted handler for a server; other handlers are returned unchanged. */
export function bindHandler<H>(handler: H, env: HandlerEnvironment): H {
  const bind = (handler as { [BIND]?: (env: HandlerEnvironment) => H })[BIND];
  return typeof bind === 'function' ? bind(env) : handler;
}

export type UnaryHandlerFn<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res> | Res;
export type ServerStreamHandlerFn<Req, Res> = (
  request: Req,
  ctx: CallContext,
) => AsyncIterable<Res> | Iterable<Res>;
export type ClientStreamHandlerFn<Req, Res> = (
  requests: AsyncIterable<Req>,
  ctx: CallContext,
) => Promise<Res> | Res;
export type BidiHandlerFn<Req, Res> = (
  requests: AsyncIterable<Req>,
  ctx: CallContext,
) => AsyncIterable<Res> | Iterable<Res>;

function logFailure(env: HandlerEnvironment, ctx: CallContext, error: unknown): void {
  const mapping = toGrpcStatus(error);
  if (mapping.unexpected) {
    // The client only sees "internal error"; the full error (and stack) stays in our logs.
    env.logger.error('grpc handler failed', { method: ctx.method, error: mapping.error.cause ?? error });
  }
}

/**
 * Guards the single reply of a unary or client-streaming call: the first answer wins, later ones
 * are logged and dropped, and nothing is sent once the client has gone.
 */
export function createReplyGuard<Res>(
  callback: (error: { code: number; details: string; metadata: Metadata } | null, value?: Res) => void,
  ctx: CallContext,
  env: HandlerEnvironment,
): { ok(value: Res): boolean; fail(error: unknown): boolean; readonly replied: boolean } {
  let replied = false;
  const claim = (what: string): boolean => {
    if (replied) {
      env.logger.warn('grpc reply ignored: call already answered', { method: ctx.method, what });
      return false;
    }
    replied = true;
    return true;
  };
  return {
    get replied() {
      return replied;
    },
    ok(value) {
      if (!claim('value')) return false;
      if (ctx.signal.aborted) return false; // the client is gone; grpc-js would drop it anyway
      callback(null, value);
      return true;
    },
    fail(error) {
      if (!claim('error')) return false;
      logFailure(env, ctx, error);
      if (ctx.signal.aborted) return false;
      callback(toGrpcStatus(error).status);
      return true;
    },
  };
}

export function unary<Req, Res>(fn: UnaryHandlerFn<Req, Res>): AdaptedHandler<handleUnaryCall<Req, Res>> {
  return adapt((env) => (call, callback) => {
    const { context, dispose } = createCallContext(call as unknown as ServerCallLike);
    const reply = createReplyGuard<Res>(callback, context, env);
    Promise.resolve()
      .then(() => fn(decodedRequest(call.request), context))
      .then(
        (value) => reply.ok(value),
        (error: unknown) => reply.fail(error),
      )
      .finally(dispose);
  });
}

export function clientStream<Req, Res>(
  fn: ClientStreamHandlerFn<Req, Res>,
): AdaptedHandler<handleClientStreamingCall<Req, Res>> {
  return adapt((env) => (call, callback) => {
    const { context, dispose } = createCallContext(call as unknown as ServerCallLike);
    const reply = createReplyGuard<Res>(callback, context, env);
    Promise.resolve()
      .then(() => fn(readRequests(call, context.signal), context))
      .then(
        (value) => reply.ok(value),
        (error: unknown) => reply.fail(error),
      )
      .finally(dispose);
  });
}

export function serverStream<Req, Res>(
  fn: ServerStreamHandlerFn<Req, Res>,
): AdaptedHandler<handleServerStreamingCall<Req, Res>> {
  return adapt((env) => (call) => {
    const { context, dispose } = createCallContext(call as unknown as ServerCallLike);
    void pump(call, context, env, () => fn(decodedRequest(call.request), context)).finally(dispose);
  });
}

export function bidi<Req, Res>(
  fn: BidiHandlerFn<Req, Res>,
): AdaptedHandler<handleBidiStreamingCall<Req, Res>> {
  return adapt((env) => (call) => {
    const { context, dispose } = createCallContext(call as unknown as ServerCallLike);
    void pump(call, context, env, () => fn(readRequests(call, context.signal), context)).finally(dispose);
  });
}

type WritableCall<Res> = ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>;

/**
 * Drive a response iterable into a server stream with backpressure. Stops pulling (and returns
 * the iterator, so the generator's `finally` runs) as soon as the call is cancelled; ends the
 * call exactly once, with OK or with the mapped error.
 */
async function pump<Res>(
  call: WritableCall<Res>,
  ctx: CallContext,
  env: HandlerEnvironment,
  produce: () => AsyncIterable<Res> | Iterable<Res>,
): Promise<void> {
  const aborted = whenAborted(ctx.signal);
  let iterator: AsyncIterator<Res> | Iterator<Res> | undefined;
  let finished = false;
  let closed = false;
  const close = (error?: unknown): void => {
    if (closed) {
      env.logger.warn('grpc stream already closed: ignoring', { method: ctx.method });
      return;
    }
    closed = true;
    if (error === undefined) {
      if (!ctx.signal.aborted) call.end();
      return;
    }
    logFailure(env, ctx, error);
    // grpc-js turns an 'error' event into the call's status (and ends the stream once).
    if (!ctx.signal.aborted) call.emit('error', toGrpcStatus(error).status);
  };
  try {
    const iterable = produce();
    iterator =
      Symbol.asyncIterator in iterable
        ? (iterable as AsyncIterable<Res>)[Symbol.asyncIterator]()
        : (iterable as Iterable<Res>)[Symbol.iterator]();
    while (!ctx.signal.aborted) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next === ABORTED) break;
      if (next.done) {
        finished = true;
        break;
      }
      if (ctx.signal.aborted) break; // never write after cancel
      if (!call.write(next.value)) {
        const drained = await Promise.race([
          new Promise<'drain'>((resolve) => call.once('drain', () => resolve('drain'))),
          aborted,
        ]);
        if (drained === ABORTED) break;
      }
    }
    close();
  } catch (error) {
    finished = true; // a throwing generator is already closed
    close(error);
  } finally {
    if (!finished && iterator?.return !== undefined) {
      // Not awaited: a generator blocked in an await only returns once that await settles.
      Promise.resolve(iterator.return()).catch((error: unknown) =>
        env.logger.warn('grpc stream generator failed while closing', { method: ctx.method, error }),
      );
    }
  }
}

/** The request stream as an async iterable that ends with CANCELLED when the call goes away. */
async function* readRequests<Req>(
  call: ServerReadableStream<Req, unknown> | ServerDuplexStream<Req, unknown>,
  signal: AbortSignal,
): AsyncGenerator<Req> {
  const aborted = whenAborted(signal);
  // The default Readable iterator destroys the stream when it finishes, which for a duplex call
  // also kills the response side (its status would never be sent).
  const source: AsyncIterator<Req> = call.iterator({ destroyOnReturn: false });
  while (true) {
    const next = await Promise.race([source.next(), aborted]);
    if (next === ABORTED) throw signal.reason ?? new VerdictError('CANCELLED', 'call cancelled');
    if (next.done) return;
    // A message that did not decode ends the reading with INVALID_ARGUMENT (see malformed-request.ts).
    yield decodedRequest(next.value);
  }
}
