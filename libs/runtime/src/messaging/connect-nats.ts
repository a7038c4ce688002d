import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
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
import type { RuntimeLogger } from '../lifecycle/logger.js';
import { type BlobExpectations, type BlobInfo, createBlobStore } from './blobs.js';
import { type ConsumeOptions, type ConsumeStats, runConsumeLoop } from './consume.js';
import { buildPublishHeaders, type MessageHeaderHooks } from './headers.js';
import { type OrderedSubscribeOptions, type OrderedSubscription, subscribeOrderedNats } from './ordered.js';
import { DEFAULT_OUTAGE_RETRY_MS, retryAcrossOutage } from './outage-retry.js';
import { openSmallState, type SmallState } from './small-state.js';
import {
  type ConsumerSpec,
  type EnsureResult,
  ensureConsumer,
  ensureStream,
  type StreamSpec,
} from './streams.js';
import { withSchemaHeader } from './verdict-topology.js';

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
  /** User name; needs `pass` (and excludes token, credsFile and nkeySeed). */
  user?: string;
  pass?: string;
  token?: string;
  /** NKey seed (the `SU...` string). */
  nkeySeed?: string;
  /** Path to a `.creds` file (JWT + seed). */
  credsFile?: string;
  /**
   * TLS with these files (read when connecting). A `tls://` server URL turns TLS on even
   * without files (system CAs) and, like any `tls` option, fails against a server without TLS.
   */
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
  /** Gets one `nats: connected to …` line (URL without credentials, auth kind, TLS on/off). */
  logger?: RuntimeLogger;
  /**
   * How long a publish with a `msgId` (deduplicated, so safe to repeat), `putBlob` and `getBlob`
   * keep retrying after a timeout or no-responders while the server restarts (default 60 s, under
   * the rollout streams' duplicate window; 0 = fail at the first error as before).
   */
  outageRetryMs?: number;
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

type NatsAuthKind = 'user' | 'token' | 'creds' | 'nkey' | 'none';

/** `nats://u:p@host:4222` → `nats://host:4222`: URLs may carry credentials, logs must not. */
export function redactNatsUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}

function serverList(servers: string | string[]): string[] {
  return Array.isArray(servers) ? servers : [servers];
}

function authKindOf(options: NatsConnectOptions): NatsAuthKind {
  if (options.user !== undefined) return 'user';
  if (options.token !== undefined) return 'token';
  if (options.credsFile !== undefined) return 'creds';
  if (options.nkeySeed !== undefined) return 'nkey';
  return 'none';
}

function wantsTls(options: NatsConnectOptions): boolean {
  return options.tls !== undefined || serverList(options.servers).some((s) => /^tls:\/\//i.test(s.trim()));
}

function checkReadable(field: string, path: string): void {
  try {
    accessSync(path, fsConstants.R_OK);
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new VerdictError('INVALID_ARGUMENT', `NATS ${field} ${path} cannot be read (${reason})`, {
      field,
      cause: err,
    });
  }
}

/** Option mistakes are INVALID_ARGUMENT before any socket opens (not an UNAVAILABLE retry loop). */
function checkConnectOptions(options: NatsConnectOptions): void {
  if ((options.user === undefined) !== (options.pass === undefined)) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `NATS user and pass must be given together (got only ${options.user !== undefined ? 'user' : 'pass'})`,
      { field: 'user,pass' },
    );
  }
  const methods = (['user', 'token', 'credsFile', 'nkeySeed'] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (methods.length > 1) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `NATS auth: give one of user/pass, token, credsFile, nkeySeed (got ${methods.join(', ')})`,
      {
        field: methods.join(','),
      },
    );
  }
  if (options.credsFile !== undefined) checkReadable('credsFile', options.credsFile);
  const tls = options.tls ?? {};
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new VerdictError('INVALID_ARGUMENT', 'NATS tls.certFile and tls.keyFile must be given together', {
      field: 'tls.certFile,tls.keyFile',
    });
  }
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const path = tls[key];
    if (path !== undefined) checkReadable(`tls.${key}`, path);
  }
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
  // An object (even empty) makes nats.js require TLS: a tls:// URL must never fall back to plaintext.
  if (wantsTls(options)) out.tls = { ...options.tls };
  return out;
}

/** UNAVAILABLE for network trouble; PERMISSION_DENIED when the server refused the credentials. */
function connectError(err: unknown, servers: string, auth: NatsAuthKind): VerdictError {
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  if (name === 'AuthorizationError' || name === 'UserAuthenticationExpiredError') {
    return new VerdictError(
      'PERMISSION_DENIED',
      `NATS at ${servers} rejected the connection (auth: ${auth}): ${message}`,
      { cause: err },
    );
  }
  return new VerdictError('UNAVAILABLE', `cannot connect to NATS at ${servers}: ${message}`, { cause: err });
}

export async function connectNats(options: NatsConnectOptions): Promise<Messaging> {
  checkConnectOptions(options);
  const servers = serverList(options.servers).map(redactNatsUrl).join(',');
  const auth = authKindOf(options);
  let nc: NatsConnection;
  try {
    nc = await connect(toConnectionOptions(options));
  } catch (err) {
    throw connectError(err, servers, auth);
  }
  const info = nc.info;
  // nats.js upgrades whenever the server offers TLS (tls_available) unless told not to.
  const tlsOn = wantsTls(options) || info?.tls_required === true || info?.tls_available === true;
  options.logger?.info(`nats: connected to ${servers} (auth: ${auth}, tls: ${tlsOn ? 'on' : 'off'})`, {
    server: nc.getServer(),
  });
  const jsOptions = options.jetstreamTimeoutMs !== undefined ? { timeout: options.jetstreamTimeoutMs } : {};
  const js = jetstream(nc, jsOptions);
  const jsm = await jetstreamManager(nc, jsOptions);
  const blobs = createBlobStore(new Objm(js));
  const kvm = new Kvm(js);
  let hooks = options.headerHooks;
  let closing: Promise<void> | undefined;
  const outage = {
    budgetMs: options.outageRetryMs ?? DEFAULT_OUTAGE_RETRY_MS,
    isClosed: () => nc.isClosed(),
  };

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
        const natsHeaders = buildPublishHeaders(withSchemaHeader(subject, publishOptions.headers), hooks);
        return js.publish(subject, data, {
          ...(publishOptions.msgId !== undefined ? { msgID: publishOptions.msgId } : {}),
          ...(natsHeaders !== undefined ? { headers: natsHeaders } : {}),
          ...(publishOptions.expectLastSequence !== undefined
            ? { expect: { lastSequence: publishOptions.expectLastSequence } }
            : {}),
          ...(publishOptions.timeoutMs !== undefined ? { timeout: publishOptions.timeoutMs } : {}),
        });
      };
      // Without a msgId a repeat after a lost ack could be stored twice: such a publish fails instead.
      const attempt = publishOptions.msgId !== undefined ? () => retryAcrossOutage(send, outage) : send;
      const ack =
        hooks?.tracePublish !== undefined ? await hooks.tracePublish(subject, attempt) : await attempt();
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    },
    consume: (consumeOptions) => runConsumeLoop(js, () => nc.flush(), consumeOptions, hooks),
    subscribeOrdered: (orderedOptions) => subscribeOrderedNats(js, orderedOptions, hooks),
    // A repeated put replaces the object under its name; a get has no effect to repeat.
    putBlob: (bucket, name, bytes) => retryAcrossOutage(() => blobs.putBlob(bucket, name, bytes), outage),
    getBlob: (bucket, name, expect) => retryAcrossOutage(() => blobs.getBlob(bucket, name, expect), outage),
    smallState: (bucket) => openSmallState(kvm, bucket),
    flush: () => nc.flush(),
    close() {
      closing ??= nc.isClosed() ? Promise.resolve() : nc.drain();
      return closing;
    },
  };
}
