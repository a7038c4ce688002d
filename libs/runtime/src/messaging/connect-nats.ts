import { readFileSync } from 'node:fs';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import {
  type Authenticator,
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
} from '@nats-io/transport-node';
import { VerdictError } from '../errors/index.js';
import { type BlobExpectations, type BlobInfo, createBlobStore } from './blobs.js';
import { type ConsumeOptions, type ConsumeStats, runConsumeLoop } from './consume.js';
import { buildPublishHeaders, type MessageHeaderHooks } from './headers.js';
import { type OrderedSubscribeOptions, type OrderedSubscription, subscribeOrderedNats } from './ordered.js';
import { openSmallState, type SmallState } from './small-state.js';
import {
  type ConsumerSpec,
  type EnsureResult,
  ensureConsumer,
  ensureStream,
  type StreamSpec,
} from './streams.js';

export interface NatsTlsOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  handshakeFirst?: boolean;
}

export interface NatsReconnectPolicy {
  /** -1 = retry forever (the default: services should ride out a NATS restart). */
  maxAttempts?: number;
  waitMs?: number;
  jitterMs?: number;
}

export interface NatsConnectOptions {
  servers: string | string[];
  /** Connection name shown in the server's monitoring (use the service name). */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** NKey seed (the `SU...` string). */
  nkeySeed?: string;
  /** Path to a `.creds` file (JWT + seed). */
  credsFile?: string;
  tls?: NatsTlsOptions;
  reconnect?: NatsReconnectPolicy;
  /** Connect timeout per attempt. */
  timeoutMs?: number;
  /** Keep retrying the first connect instead of failing (pods that start before NATS). */
  waitOnFirstConnect?: boolean;
  /** Per-request timeout of JetStream API calls and publish acks. */
  jetstreamTimeoutMs?: number;
  /** Trace-context hooks, see MessageHeaderHooks; settable later with setHeaderHooks. */
  headerHooks?: MessageHeaderHooks;
}

export interface PublishOptions {
  /** `Nats-Msg-Id`: a repeat within the stream's duplicate window is stored once. */
  msgId?: string;
  headers?: Record<string, string>;
  /** Fail unless the stream's last sequence is this (optimistic concurrency). */
  expectLastSequence?: number;
  timeoutMs?: number;
}

export interface PublishResult {
  stream: string;
  seq: number;
  /** True when the server dropped this publish as a repeat of `msgId`. */
  duplicate: boolean;
}

/**
 * The messaging surface services use, on NATS JetStream (`connectNats`) or in process
 * (`connectMessaging` with a `mem://` URL): services need nothing beyond it.
 */
export interface Messaging {
  /** Which implementation this is (logs, health). */
  readonly transport: 'nats' | 'memory';
  /** Raw NATS handles for tests and tools: the in-memory transport throws UNIMPLEMENTED. */
  readonly connection: NatsConnection;
  readonly jetstream: JetStreamClient;
  readonly jetstreamManager: JetStreamManager;
  /** True after close() (NATS: also when the connection gave up reconnecting). */
  isClosed(): boolean;
  setHeaderHooks(hooks: MessageHeaderHooks | undefined): void;
  ensureStream(spec: StreamSpec): Promise<EnsureResult>;
  ensureConsumer(spec: ConsumerSpec): Promise<EnsureResult>;
  publish(subject: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult>;
  /** Runs until options.signal aborts; resolves after in-flight messages are settled. */
  consume(options: ConsumeOptions): Promise<ConsumeStats>;
  /** Every message of a stream (filtered), in order, without acks: each caller sees them all. */
  subscribeOrdered(options: OrderedSubscribeOptions): Promise<OrderedSubscription>;
  putBlob(bucket: string, name: string, bytes: Uint8Array): Promise<BlobInfo>;
  getBlob(bucket: string, name: string, expect?: BlobExpectations): Promise<Uint8Array>;
  smallState(bucket: string): Promise<SmallState>;
  /** Round trip to the server: everything sent before (acks included) has arrived. */
  flush(): Promise<void>;
  /** Drains subscriptions, flushes, closes. Idempotent. */
  close(): Promise<void>;
}

function toConnectionOptions(options: NatsConnectOptions): ConnectionOptions {
  const authenticators: Authenticator[] = [];
  if (options.nkeySeed !== undefined) {
    authenticators.push(nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed)));
  }
  if (options.credsFile !== undefined) {
    authenticators.push(credsAuthenticator(readFileSync(options.credsFile)));
  }
  const reconnect = options.reconnect ?? {};
  const out: ConnectionOptions = {
    servers: options.servers,
    maxReconnectAttempts: reconnect.maxAttempts ?? -1,
    reconnectTimeWait: reconnect.waitMs ?? 1_000,
    reconnectJitter: reconnect.jitterMs ?? 200,
    waitOnFirstConnect: options.waitOnFirstConnect ?? false,
  };
  if (options.name !== undefined) out.name = options.name;
  if (options.user !== undefined) out.user = options.user;
  if (options.pass !== undefined) out.pass = options.pass;
  if (options.token !== undefined) out.token = options.token;
  if (options.timeoutMs !== undefined) out.timeout = options.timeoutMs;
  if (authenticators.length > 0) out.authenticator = authenticators;
  if (options.tls !== undefined) out.tls = { ...options.tls };
  return out;
}

export async function connectNats(options: NatsConnectOptions): Promise<Messaging> {
  let nc: NatsConnection;
  try {
    nc = await connect(toConnectionOptions(options));
  } catch (err) {
    const servers = Array.isArray(options.servers) ? options.servers.join(',') : options.servers;
    const message = err instanceof Error ? err.message : String(err);
    throw new VerdictError('UNAVAILABLE', `cannot connect to NATS at ${servers}: ${message}`, { cause: err });
  }
  const jsOptions = options.jetstreamTimeoutMs !== undefined ? { timeout: options.jetstreamTimeoutMs } : {};
  const js = jetstream(nc, jsOptions);
  const jsm = await jetstreamManager(nc, jsOptions);
  const blobs = createBlobStore(new Objm(js));
  const kvm = new Kvm(js);
  let hooks = options.headerHooks;
  let closing: Promise<void> | undefined;

  return {
    transport: 'nats',
    connection: nc,
    jetstream: js,
    jetstreamManager: jsm,
    isClosed: () => nc.isClosed(),
    setHeaderHooks(next) {
      hooks = next;
    },
    ensureStream: (spec) => ensureStream(jsm, spec),
    ensureConsumer: (spec) => ensureConsumer(jsm, spec),
    async publish(subject, data, publishOptions = {}) {
      const send = async () => {
        const natsHeaders = buildPublishHeaders(publishOptions.headers, hooks);
        return js.publish(subject, data, {
          ...(publishOptions.msgId !== undefined ? { msgID: publishOptions.msgId } : {}),
          ...(natsHeaders !== undefined ? { headers: natsHeaders } : {}),
          ...(publishOptions.expectLastSequence !== undefined
            ? { expect: { lastSequence: publishOptions.expectLastSequence } }
            : {}),
          ...(publishOptions.timeoutMs !== undefined ? { timeout: publishOptions.timeoutMs } : {}),
        });
      };
      const ack = hooks?.tracePublish !== undefined ? await hooks.tracePublish(subject, send) : await send();
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    },
    consume: (consumeOptions) => runConsumeLoop(js, () => nc.flush(), consumeOptions, hooks),
    subscribeOrdered: (orderedOptions) => subscribeOrderedNats(js, orderedOptions, hooks),
    putBlob: (bucket, name, bytes) => blobs.putBlob(bucket, name, bytes),
    getBlob: (bucket, name, expect) => blobs.getBlob(bucket, name, expect),
    smallState: (bucket) => openSmallState(kvm, bucket),
    flush: () => nc.flush(),
    close() {
      closing ??= nc.isClosed() ? Promise.resolve() : nc.drain();
      return closing;
    },
  };
}
