// What every service's TLS test asks of a real server: a grpc.health.v1 Check over a given kind
// of channel (plaintext, TLS with the test CA, TLS with a client certificate), and the log lines
// a server printed, with the private keys' PEM never among them.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type ChannelCredentials, type ChannelOptions, credentials } from '@grpc/grpc-js';
import { health } from '@verdict/proto';
import { isVerdictError } from '../errors/verdict-error.js';
import { createGrpcClient } from '../grpc/client.js';
import type { RuntimeLogger } from '../lifecycle/logger.js';
import type { TestCertificates } from './tls-certificates.js';

/**
 * `plaintext`; `tls`: the test CA, no client certificate; `mtls`: the CA and the client
 * certificate; `tls-no-ca`: TLS trusting only the system roots (the test server must be refused).
 */
export type TestChannelKind = 'plaintext' | 'tls' | 'mtls' | 'tls-no-ca';

/** Credentials and channel options of one kind of test channel; `serverName` is checked against the certificate. */
export function testChannel(
  certs: TestCertificates,
  kind: TestChannelKind,
  serverName?: string,
): { credentials: ChannelCredentials; channelOptions: ChannelOptions } {
  const channelOptions: ChannelOptions =
    serverName !== undefined && kind !== 'plaintext' ? { 'grpc.ssl_target_name_override': serverName } : {};
  const ca = Buffer.from(certs.ca.certPem);
  switch (kind) {
    case 'plaintext':
      return { credentials: credentials.createInsecure(), channelOptions };
    case 'tls':
      return { credentials: credentials.createSsl(ca), channelOptions };
    case 'mtls':
      return {
        credentials: credentials.createSsl(
          ca,
          Buffer.from(certs.client.keyPem),
          Buffer.from(certs.client.certPem),
        ),
        channelOptions,
      };
    case 'tls-no-ca':
      return { credentials: credentials.createSsl(), channelOptions };
  }
}

/** `SERVING` / `NOT_SERVING` / …, or the VerdictError code of a failed call (`UNAVAILABLE` for a refused handshake). */
export type HealthOutcome = keyof typeof health.HealthCheckResponse_ServingStatus | string;

/**
 * One grpc.health.v1 Check of `service` ('' = the whole server) at `address` over a `kind`
 * channel: the serving status, or the error code when the call fails.
 */
export async function healthCheckOver(
  address: string,
  certs: TestCertificates,
  kind: TestChannelKind,
  options: { service?: string; serverName?: string; deadlineMs?: number } = {},
): Promise<HealthOutcome> {
  const channel = testChannel(certs, kind, options.serverName);
  const client = createGrpcClient(health.HealthClient, address, {
    ...channel,
    defaultDeadlineMs: options.deadlineMs ?? 5_000,
    retry: { maxAttempts: 1 },
  });
  try {
    const { status } = await client.unary('check', { service: options.service ?? '' });
    return health.HealthCheckResponse_ServingStatus[status] ?? String(status);
  } catch (error) {
    if (isVerdictError(error)) return error.code;
    throw error;
  } finally {
    client.close();
  }
}

/**
 * A logger that keeps every line a server prints, as the message plus its fields in JSON (what
 * a JSON log line would carry), for assertions on what reaches the logs.
 */
export function recordingLogger(): { logger: RuntimeLogger; lines: string[] } {
  const lines: string[] = [];
  const push = (message: string, fields?: Record<string, unknown>) => {
    lines.push(fields === undefined ? message : `${message} ${safeJson(fields)}`);
  };
  return { logger: { debug: push, info: push, warn: push, error: push }, lines };
}

/**
 * Log lines that contain any part of a private key of `certs` (the PEM header or any base64
 * line of its body). Empty = no key material was logged.
 */
export function linesWithKeyMaterial(lines: readonly string[], certs: TestCertificates): string[] {
  const needles = [certs.server.keyPem, certs.client.keyPem, certs.ca.keyPem].flatMap((pem) =>
    pem
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length >= 16 && !l.startsWith('-----')),
  );
  return lines.filter((line) => line.includes('PRIVATE KEY') || needles.some((n) => line.includes(n)));
}

function safeJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_k, v) =>
      typeof v === 'bigint' ? String(v) : v instanceof Error ? { message: v.message, stack: v.stack } : v,
    );
  } catch {
    return String(fields);
  }
}

/** What `itServesTls` needs of one service's test: how to start it with extra env, and its names. */
export interface ServerTlsSuite {
  /** Env prefix of the service's server TLS settings (`POLICY`, `REWARD`, …: `<prefix>_TLS_CLIENT_CA_FILE`). */
  readonly prefix: string;
  /** The health service name the server registers. */
  readonly service: string;
  /** Name in the test server certificate. */
  readonly serverName: string;
  readonly certs: () => TestCertificates;
  /** Env with the server certificate, key and a health port of 0. */
  readonly tlsEnv: () => Record<string, string>;
  /** Starts the service with `env` added; its gRPC and health addresses, and what it logged. */
  readonly start: (
    env: Record<string, string>,
  ) => Promise<{ address: string; healthAddress?: string | undefined; lines: readonly string[] }>;
}

/**
 * The two TLS tests every gRPC service passes, one definition for all of them: with server auth a
 * client trusting the CA is served and plaintext and an untrusted CA are refused; with mutual TLS a
 * client certificate is served and a client without one is refused; the plaintext health port
 * answers SERVING either way; no private key reaches the logs.
 */
export function itServesTls(suite: ServerTlsSuite): void {
  const check = (address: string, kind: TestChannelKind) =>
    healthCheckOver(address, suite.certs(), kind, { service: suite.service, serverName: suite.serverName });

  it('server auth: a TLS client with the CA is served; plaintext and an untrusted CA are refused; health port SERVING', async () => {
    const { address, healthAddress, lines } = await suite.start(suite.tlsEnv());
    assert.ok(
      lines.some((l) => l.startsWith('grpc: tls (server auth)')),
      lines.join('\n'),
    );
    assert.equal(await check(address, 'tls'), 'SERVING');
    assert.equal(await check(address, 'plaintext'), 'UNAVAILABLE');
    assert.equal(await check(address, 'tls-no-ca'), 'UNAVAILABLE');
    assert.ok(healthAddress !== undefined && healthAddress !== address);
    assert.equal(await check(healthAddress, 'plaintext'), 'SERVING');
  });

  it('mutual TLS: a client certificate is accepted, a client without one refused; no key material in the logs', async () => {
    const certs = suite.certs();
    const { address, healthAddress, lines } = await suite.start({
      ...suite.tlsEnv(),
      [`${suite.prefix}_TLS_CLIENT_CA_FILE`]: certs.ca.certFile,
    });
    assert.ok(
      lines.some((l) => l.startsWith('grpc: tls (mutual)')),
      lines.join('\n'),
    );
    assert.equal(await check(address, 'mtls'), 'SERVING');
    assert.equal(await check(address, 'tls'), 'UNAVAILABLE');
    assert.equal(await check(address, 'plaintext'), 'UNAVAILABLE');
    assert.ok(healthAddress !== undefined);
    assert.equal(await check(healthAddress, 'plaintext'), 'SERVING');
    assert.deepEqual(linesWithKeyMaterial(lines, certs), []);
    // The check itself would see a key that was logged.
    assert.equal(
      linesWithKeyMaterial([`config ${JSON.stringify({ key: certs.server.keyPem })}`], certs).length,
      1,
    );
  });
}
