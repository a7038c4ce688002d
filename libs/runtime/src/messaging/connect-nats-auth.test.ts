// Credentials and TLS against a REAL nats-server: user/password and token servers, a TLS server
// with a throwaway CA made by openssl at test time, and mutual TLS. Plus the env fragment rules.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defineConfig } from '../config/index.js';
import { isVerdictError } from '../errors/index.js';
import type { RuntimeLogger } from '../lifecycle/logger.js';
import { type NatsServerHandle, startNatsServer } from '../nats-server/nats-server.js';
import {
  createTestCertificates,
  opensslMissingReason,
  type TestCertificates,
} from '../testing/tls-certificates.js';
import { connectMessaging } from './connect-messaging.js';
import { connectNats, type NatsConnectOptions, redactNatsUrl } from './connect-nats.js';
import { natsConnectionEnv, natsConnectOptionsFromConfig } from './nats-connection-options.js';

const USER = 'verdict';
const PASSWORD = 'pa55-word-XYZ';
const TOKEN = 'tok-3f9a';
const noOpenssl = opensslMissingReason();

/** Fail fast: a refused connect must not sit in the reconnect loop. */
const quick = { timeoutMs: 3_000, reconnect: { maxAttempts: 0 } } satisfies Partial<NatsConnectOptions>;

function recordingLogger(): RuntimeLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, debug: push, info: push, warn: push, error: push };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    const m = await promise;
    await (m as { close?: () => Promise<void> }).close?.();
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail('expected the connection to be refused');
}

const natsEnv = defineConfig({ nats: natsConnectionEnv() });

describe('NATS user/password and token auth (real nats-server)', () => {
  let server: NatsServerHandle;
  let tokenServer: NatsServerHandle;
  before(async () => {
    [server, tokenServer] = await Promise.all([
      startNatsServer({ auth: { user: USER, password: PASSWORD } }),
      startNatsServer({ auth: { token: TOKEN } }),
    ]);
  });
  after(async () => {
    await Promise.all([server?.stop(), tokenServer?.stop()]);
  });

  it('connects with the right user/password read from the env fragment, and logs no secret', async () => {
    const config = natsEnv.load({ NATS_USER: USER, NATS_PASSWORD: PASSWORD });
    const logger = recordingLogger();
    const messaging = await connectMessaging({
      servers: server.url,
      ...natsConnectOptionsFromConfig(config.nats),
      logger,
      ...quick,
    });
    try {
      await messaging.ensureStream({ name: 'AUTH_T', subjects: ['auth.t.>'] });
      const ack = await messaging.publish('auth.t.one', 'x');
      assert.equal(ack.seq, 1);
    } finally {
      await messaging.close();
    }
    assert.equal(logger.lines.length, 1);
    const [line] = logger.lines;
    assert.match(line ?? '', new RegExp(`^nats: connected to ${server.url} \\(auth: user, tls: off\\)`));
    assert.ok(!line?.includes(PASSWORD));
  });

  it('refuses a wrong password and no credentials with PERMISSION_DENIED, never echoing the password', async () => {
    const wrong = await rejection(connectNats({ servers: server.url, user: USER, pass: 'nope', ...quick }));
    assert.ok(isVerdictError(wrong) && wrong.code === 'PERMISSION_DENIED', String(wrong));
    assert.match(wrong.message, /rejected the connection \(auth: user\).*Authorization Violation/i);
    assert.ok(!wrong.message.includes('nope'));
    const none = await rejection(connectNats({ servers: server.url, ...quick }));
    assert.ok(isVerdictError(none) && none.code === 'PERMISSION_DENIED', String(none));
    assert.match(none.message, /auth: none/);
  });

  it('redactNatsUrl cuts user info from URLs before they reach logs or errors', () => {
    assert.equal(redactNatsUrl(`nats://${USER}:${PASSWORD}@nats.svc:4222`), 'nats://nats.svc:4222');
    assert.equal(redactNatsUrl(`tls://${TOKEN}@10.0.0.1:4222`), 'tls://10.0.0.1:4222');
    assert.equal(redactNatsUrl('nats://nats.svc:4222'), 'nats://nats.svc:4222');
  });

  it('token auth: NATS_TOKEN connects, a wrong token is refused', async () => {
    const config = natsEnv.load({ NATS_TOKEN: TOKEN });
    const logger = recordingLogger();
    const ok = await connectNats({
      servers: tokenServer.url,
      ...natsConnectOptionsFromConfig(config.nats),
      logger,
    });
    await ok.close();
    assert.match(logger.lines[0] ?? '', /\(auth: token, tls: off\)/);
    const bad = await rejection(connectNats({ servers: tokenServer.url, token: 'other', ...quick }));
    assert.ok(isVerdictError(bad) && bad.code === 'PERMISSION_DENIED', String(bad));
  });
});

describe('NATS connection env fragment and option checks', () => {
  it('NATS_USER without NATS_PASSWORD is a config error naming both', () => {
    const config = natsEnv.load({ NATS_USER: USER });
    assert.throws(
      () => natsConnectOptionsFromConfig(config.nats),
      (err: unknown) =>
        isVerdictError(err) &&
        err.code === 'INVALID_ARGUMENT' &&
        /NATS_USER and NATS_PASSWORD must be set together \(NATS_USER is set, NATS_PASSWORD is not\)/.test(
          err.message,
        ),
    );
    const onlyPassword = natsEnv.load({ NATS_PASSWORD: PASSWORD });
    assert.throws(
      () => natsConnectOptionsFromConfig(onlyPassword.nats),
      /NATS_PASSWORD is set, NATS_USER is not/,
    );
  });

  it('two auth methods, or a client cert without its key, are config errors', () => {
    const two = natsEnv.load({ NATS_USER: USER, NATS_PASSWORD: PASSWORD, NATS_TOKEN: TOKEN });
    assert.throws(
      () => natsConnectOptionsFromConfig(two.nats),
      /only one NATS auth method.*NATS_USER\/NATS_PASSWORD and NATS_TOKEN/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'verdict-nats-env-'));
    try {
      const cert = join(dir, 'tls.crt');
      writeFileSync(cert, 'x');
      const half = natsEnv.load({ NATS_TLS_CERT_FILE: cert });
      assert.throws(
        () => natsConnectOptionsFromConfig(half.nats),
        /NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('unreadable files fail the load naming the variable; unset means no auth and no TLS', () => {
    assert.throws(
      () =>
        natsEnv.load({ NATS_CREDS_FILE: '/nonexistent/nats.creds', NATS_TLS_CA_FILE: '/nonexistent/ca.crt' }),
      (err: unknown) =>
        isVerdictError(err) &&
        err.code === 'INVALID_ARGUMENT' &&
        err.message.includes('NATS_CREDS_FILE="/nonexistent/nats.creds": must be path of a readable file') &&
        err.message.includes('NATS_TLS_CA_FILE="/nonexistent/ca.crt"'),
    );
    assert.deepEqual(natsConnectOptionsFromConfig(natsEnv.load({}).nats), {});
  });

  it('connectNats rejects bad options before dialling (INVALID_ARGUMENT naming the option)', async () => {
    // Port 9 (discard) is never dialled: the checks run first.
    const servers = 'nats://127.0.0.1:9';
    const onlyUser = await rejection(connectNats({ servers, user: USER, ...quick }));
    assert.ok(isVerdictError(onlyUser) && onlyUser.code === 'INVALID_ARGUMENT', String(onlyUser));
    assert.equal(onlyUser.field, 'user,pass');
    const creds = await rejection(connectNats({ servers, credsFile: '/nonexistent/x.creds', ...quick }));
    assert.ok(isVerdictError(creds) && creds.code === 'INVALID_ARGUMENT', String(creds));
    assert.match(creds.message, /credsFile \/nonexistent\/x\.creds cannot be read \(ENOENT\)/);
    const ca = await rejection(connectNats({ servers, tls: { caFile: '/nonexistent/ca.pem' }, ...quick }));
    assert.ok(isVerdictError(ca) && ca.field === 'tls.caFile', String(ca));
  });
});

describe('NATS TLS (real nats-server, openssl certificates)', { skip: noOpenssl }, () => {
  let certs: TestCertificates;
  let tlsServer: NatsServerHandle;
  let mtlsServer: NatsServerHandle;
  let plainServer: NatsServerHandle;

  before(async () => {
    certs = createTestCertificates({ serverNames: ['127.0.0.1', 'localhost'] });
    const tls = certs.server;
    [tlsServer, mtlsServer, plainServer] = await Promise.all([
      startNatsServer({ auth: { tls } }),
      startNatsServer({ auth: { tls, tlsClientCaFile: certs.ca.certFile } }),
      startNatsServer(),
    ]);
  });
  after(async () => {
    await Promise.all([tlsServer?.stop(), mtlsServer?.stop(), plainServer?.stop()]);
    certs?.cleanup();
  });

  it('connects with NATS_TLS_CA_FILE over a tls:// URL and says tls: on', async () => {
    const config = natsEnv.load({ NATS_TLS_CA_FILE: certs.ca.certFile });
    const logger = recordingLogger();
    const url = `tls://127.0.0.1:${tlsServer.port}`;
    const messaging = await connectNats({
      servers: url,
      ...natsConnectOptionsFromConfig(config.nats),
      logger,
      ...quick,
    });
    try {
      await messaging.flush();
    } finally {
      await messaging.close();
    }
    assert.match(logger.lines[0] ?? '', new RegExp(`^nats: connected to ${url} \\(auth: none, tls: on\\)`));
  });

  it('refuses the server certificate without the CA', async () => {
    const err = await rejection(connectNats({ servers: `tls://127.0.0.1:${tlsServer.port}`, ...quick }));
    assert.ok(isVerdictError(err) && err.code === 'UNAVAILABLE', String(err));
    assert.match(err.message, /cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: .+/);
  });

  it('mutual TLS: the client certificate is accepted, its absence refused', async () => {
    const url = `tls://127.0.0.1:${mtlsServer.port}`;
    const config = natsEnv.load({
      NATS_TLS_CA_FILE: certs.ca.certFile,
      NATS_TLS_CERT_FILE: certs.client.certFile,
      NATS_TLS_KEY_FILE: certs.client.keyFile,
    });
    const messaging = await connectNats({
      servers: url,
      ...natsConnectOptionsFromConfig(config.nats),
      ...quick,
    });
    await messaging.close();
    const err = await rejection(
      connectNats({ servers: url, tls: { caFile: certs.ca.certFile }, ...quick, timeoutMs: 1_000 }),
    );
    // TLS 1.3 reports the missing client certificate after the handshake: nats.js sees the
    // server hang up and gives up at timeoutMs.
    assert.ok(isVerdictError(err) && err.code === 'UNAVAILABLE', String(err));
  });

  it('a tls:// URL never falls back to plaintext', async () => {
    const err = await rejection(connectNats({ servers: `tls://127.0.0.1:${plainServer.port}`, ...quick }));
    assert.ok(isVerdictError(err) && err.code === 'UNAVAILABLE', String(err));
    assert.match(err.message, /tls/i);
  });
});
