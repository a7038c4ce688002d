// createGrpcClient: wrap a generated client constructor with a per-call default deadline,
// retries with backoff on a FIXED set of codes for idempotent calls, and promise / async
// iterable call helpers whose errors are always VerdictErrors.
import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  credentials as grpcCredentials,
  type Interceptor,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import type { ErrorCode } from '../errors/verdict-error.js';
import { VerdictError } from '../errors/verdict-error.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './server.js';

export interface RetryOptions {
  /** Total attempts including the first. Default 3. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  backoffMultiplier?: number;
  /** RESOURCE_EXHAUSTED is retried only when opted in (it usually means "back off", not "retry"). */
  retryResourceExhausted?: boolean;
}

/**
 * `round_robin` spreads calls over every address the target resolves to (a headless Kubernetes
 * Service's pod IPs, an `ipv4:a:p1,b:p2` list); `pick_first` (grpc's default) sends every call
 * to one of them.
 */
export type GrpcLoadBalancing = 'round_robin' | 'pick_first';

export interface GrpcClientOptions {
  /** Deadline of each call unless the call sets one; covers all retries. Default 10 s. */
  defaultDeadlineMs?: number;
  retry?: RetryOptions;
  /** Methods (client method names, e.g. `check`) that are safe to retry by default. */
  idempotentMethods?: readonly string[];
  credentials?: ChannelCredentials;
  maxReceiveMessageBytes?: number;
  maxSendMessageBytes?: number;
  channelOptions?: ChannelOptions;
  /** Client interceptors (e.g. trace context propagation). */
  interceptors?: Interceptor[];
  /**
   * Default: `round_robin` for `dns:` targets (`dns:///judge-headless:50052`), else grpc's
   * `pick_first`. A `grpc.service_config` in channelOptions wins over this.
   */
  loadBalancing?: GrpcLoadBalancing;
}

/** The balancing policy a client to `address` uses (see GrpcClientOptions.loadBalancing). */
export function grpcLoadBalancingFor(address: string, loadBalancing?: GrpcLoadBalancing): GrpcLoadBalancing {
  if (loadBalancing !== undefined) return loadBalancing;
  return /^dns:/i.test(address.trim()) ? 'round_robin' : 'pick_first';
}

/** Channel options that select the policy: a service config only where it differs from grpc's default. */
function loadBalancingChannelOptions(address: string, options: GrpcClientOptions): ChannelOptions {
  if (options.channelOptions?.['grpc.service_config'] !== undefined) return {};
  const policy = grpcLoadBalancingFor(address, options.loadBalancing);
  if (policy === 'pick_first' && options.loadBalancing === undefined) return {};
  return { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ [policy]: {} }] }) };
}

export interface GrpcCallOptions {
  deadlineMs?: number;
  metadata?: Metadata | Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Override whether this unary call may be retried. */
  idempotent?: boolean;
}

type UnaryCallback<Res> = (error: ServiceError | null, response: Res) => void;
type UnaryFn<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: UnaryCallback<Res>,
) => ClientUnaryCall;
type ServerStreamFn<Req, Res> = (
  request: Req,
  metadata?: Metadata,
  options?: Partial<CallOptions>,
) => ClientReadableStream<Res>;
type ClientStreamFn<Req, Res> = (
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: UnaryCallback<Res>,
) => ClientWritableStream<Req>;
type BidiFn<Req, Res> = (metadata: Metadata, options?: Partial<CallOptions>) => ClientDuplexStream<Req, Res>;

// A shape test alone is too loose (a stream method with fewer parameters fits the unary shape),
// so each kind also excludes the call object types of the other kinds.
type MethodsOf<C, F, Exclude = never> = {
  [K in keyof C & string]: C[K] extends F
    ? C[K] extends (...args: never[]) => infer R
      ? [R] extends [Exclude]
        ? never
        : K
      : never
    : never;
}[keyof C & string];
type ReadableCall = ClientReadableStream<unknown>;
// `never` requests and `unknown` responses match any method of that shape (parameter variance).
export type UnaryMethod<C> = MethodsOf<
  C,
  UnaryFn<never, unknown>,
  ReadableCall | ClientWritableStream<never>
>;
export type ServerStreamMethod<C> = MethodsOf<C, ServerStreamFn<never, unknown>, ClientWritableStream<never>>;
export type ClientStreamMethod<C> = MethodsOf<C, ClientStreamFn<never, unknown>, ReadableCall>;
export type BidiMethod<C> = MethodsOf<C, BidiFn<never, unknown>>;

export type UnaryRequest<F> = F extends UnaryFn<infer Req, infer _Res> ? Req : never;
export type UnaryResponse<F> = F extends UnaryFn<infer _Req, infer Res> ? Res : never;
// Bidi first: a duplex call also fits the writable and readable shapes.
export type StreamRequest<F> =
  F extends BidiFn<infer Req, infer _Res>
    ? Req
    : F extends ClientStreamFn<infer Req, infer _Res>
      ? Req
      : F extends ServerStreamFn<infer Req, infer _Res>
        ? Req
        : never;
export type StreamResponse<F> =
  F extends BidiFn<infer _Req, infer Res>
    ? Res
    : F extends ClientStreamFn<infer _Req, infer Res>
      ? Res
      : F extends ServerStreamFn<infer _Req, infer Res>
        ? Res
        : never;

export type ClientConstructor<C extends Client> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: ChannelOptions & { interceptors?: Interceptor[] },
) => C;

const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE']);

export interface GrpcClient<C extends Client> {
  /** The generated client, for anything the helpers do not cover. */
  readonly raw: C;
  unary<M extends UnaryMethod<C>>(
    method: M,
    request: UnaryRequest<C[M]>,
    options?: GrpcCallOptions,
  ): Promise<UnaryResponse<C[M]>>;
  serverStream<M extends ServerStreamMethod<C>>(
    method: M,
    request: StreamRequest<C[M]>,
    options?: GrpcCallOptions,
  ): AsyncIterable<StreamResponse<C[M]>>;
  clientStream<M extends ClientStreamMethod<C>>(
    method: M,
    requests: AsyncIterable<StreamRequest<C[M]>> | Iterable<StreamRequest<C[M]>>,
    options?: GrpcCallOptions,
  ): Promise<StreamResponse<C[M]>>;
  bidi<M extends BidiMethod<C>>(
    method: M,
    requests: AsyncIterable<StreamRequest<C[M]>> | Iterable<StreamRequest<C[M]>>,
    options?: GrpcCallOptions,
  ): AsyncIterable<StreamResponse<C[M]>>;
  /** Resolves once connected; VerdictError UNAVAILABLE after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void>;
  close(): void;
}

export function createGrpcClient<C extends Client>(
  ClientCtor: ClientConstructor<C>,
  address: string,
  options: GrpcClientOptions = {},
): GrpcClient<C> {
  const raw = new ClientCtor(address, options.credentials ?? grpcCredentials.createInsecure(), {
    ...loadBalancingChannelOptions(address, options),
    ...options.channelOptions,
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    ...(options.interceptors !== undefined ? { interceptors: options.interceptors } : {}),
  });
  const defaultDeadlineMs = options.defaultDeadlineMs ?? 10_000;
  const retry = {
    maxAttempts: options.retry?.maxAttempts ?? 3,
    initialBackoffMs: options.retry?.initialBackoffMs ?? 50,
    maxBackoffMs: options.retry?.maxBackoffMs ?? 2_000,
    backoffMultiplier: options.retry?.backoffMultiplier ?? 2,
  };
  const retryable = new Set(RETRYABLE);
  if (options.retry?.retryResourceExhausted === true) retryable.add('RESOURCE_EXHAUSTED');
  const idempotentMethods = new Set(options.idempotentMethods ?? []);
  const method = <F>(name: string): F => {
    const fn = (raw as unknown as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw new VerdictError('UNIMPLEMENTED', `client has no method ${name}`);
    return (fn as (...args: unknown[]) => unknown).bind(raw) as F;
  };
  const callOptions = (deadlineAtMs: number): Partial<CallOptions> =>
    Number.isFinite(deadlineAtMs) ? { deadline: new Date(deadlineAtMs) } : {};
  const deadlineOf = (o: GrpcCallOptions): number => Date.now() + (o.deadlineMs ?? defaultDeadlineMs);

  const unaryOnce = <Req, Res>(
    fn: UnaryFn<Req, Res>,
    request: Req,
    metadata: Metadata,
    deadlineAtMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      const call = fn(request, metadata.clone(), callOptions(deadlineAtMs), (error, response) => {
        signal?.removeEventListener('abort', onAbort);
        if (error === null) resolve(response);
        else reject(VerdictError.from(error));
      });
      const onAbort = (): void => call.cancel();
      if (signal?.aborted) call.cancel();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });

  return {
    raw,
    async unary(name, request, o = {}) {
      type F = C[typeof name];
      const fn = method<UnaryFn<UnaryRequest<F>, UnaryResponse<F>>>(name);
      const deadlineAtMs = deadlineOf(o);
      const metadata = toMetadata(o.metadata);
      const idempotent = o.idempotent ?? idempotentMethods.has(name);
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await unaryOnce(fn, request, metadata, deadlineAtMs, o.signal);
        } catch (error) {
          const verdictError = VerdictError.from(error);
          if (!idempotent || !retryable.has(verdictError.code) || attempt >= retry.maxAttempts)
            throw verdictError;
          const capMs = Math.min(
            retry.maxBackoffMs,
            retry.initialBackoffMs * retry.backoffMultiplier ** (attempt - 1),
          );
          // Equal jitter: spread retries of many clients without ever waiting zero.
          const backoffMs = capMs / 2 + Math.random() * (capMs / 2);
          if (Date.now() + backoffMs >= deadlineAtMs || o.signal?.aborted) throw verdictError;
          await sleep(backoffMs, o.signal);
        }
      }
    },
    serverStream(name, request, o = {}) {
      type F = C[typeof name];
      const fn = method<ServerStreamFn<StreamRequest<F>, StreamResponse<F>>>(name);
      return iterateCall(() => fn(request, toMetadata(o.metadata), callOptions(deadlineOf(o))), o.signal);
    },
    clientStream(name, requests, o = {}) {
      type F = C[typeof name];
      const fn = method<ClientStreamFn<StreamRequest<F>, StreamResponse<F>>>(name);
      return new Promise((resolve, reject) => {
        const call = fn(toMetadata(o.metadata), callOptions(deadlineOf(o)), (error, response) => {
          o.signal?.removeEventListener('abort', onAbort);
          if (error === null) resolve(response);
          else reject(VerdictError.from(error));
        });
        const onAbort = (): void => call.cancel();
        if (o.signal?.aborted) call.cancel();
        else o.signal?.addEventListener('abort', onAbort, { once: true });
        void writeAll(call, requests);
      });
    },
    bidi(name, requests, o = {}) {
      type F = C[typeof name];
      const fn = method<BidiFn<StreamRequest<F>, StreamResponse<F>>>(name);
      return iterateCall(() => {
        const call = fn(toMetadata(o.metadata), callOptions(deadlineOf(o)));
        void writeAll(call, requests);
        return call;
      }, o.signal);
    },
    waitForReady(timeoutMs) {
      return new Promise((resolve, reject) =>
        raw.waitForReady(Date.now() + timeoutMs, (error) =>
          error === undefined || error === null
            ? resolve()
            : reject(
                new VerdictError('UNAVAILABLE', `${address} not ready: ${error.message}`, { cause: error }),
              ),
        ),
      );
    },
    close() {
      raw.close();
    },
  };
}

/** A call's responses as an async iterable; breaking out of the loop cancels the call. */
async function* iterateCall<Res>(
  open: () => ClientReadableStream<Res> | ClientDuplexStream<unknown, Res>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Res> {
  const call = open();
  const onAbort = (): void => call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  let ended = false;
  try {
    for await (const message of call as AsyncIterable<Res>) yield message;
    ended = true;
  } catch (error) {
    ended = true;
    throw VerdictError.from(error);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!ended) call.cancel();
  }
}

async function writeAll<Req>(
  call: ClientWritableStream<Req> | ClientDuplexStream<Req, unknown>,
  requests: AsyncIterable<Req> | Iterable<Req>,
): Promise<void> {
  try {
    for await (const request of requests) {
      if (!call.write(request)) await new Promise((resolve) => call.once('drain', resolve));
    }
    call.end();
  } catch {
    // The request source failed: cancel so the server (and the caller, via CANCELLED) know.
    call.cancel();
  }
}

function toMetadata(value: GrpcCallOptions['metadata']): Metadata {
  if (value instanceof Metadata) return value;
  const metadata = new Metadata();
  for (const [key, v] of Object.entries(value ?? {})) metadata.set(key, v);
  return metadata;
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
