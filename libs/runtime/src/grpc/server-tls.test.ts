// Real certificates made with openssl at test time, real TLS handshakes against createGrpcServer
// on port 0, and the plaintext health-only server sharing the status table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ChannelCredentials, credentials } from '@grpc/grpc-js';
import { health } from '@verdict/proto';
import { isVerdictError } from '../errors/verdict-error.js';
import { createLifecycle } from '../lifecycle/lifecycle.js';
import type { RuntimeLogger } from '../lifecycle/logger.js';
import { createTestCertificates, opensslMissingReason } from '../testing/tls-certificates.js';
import { createGrpcClient } from './client.js';
import { ServingStatus } from './health.js';
import { createGrpcServer, type GrpcServer } from './server.js';
import { resolveGrpcServerTls } from './server-tls.js';

const silent: RuntimeLogger = { debug() {}, info() {}, warn() {}, error() {} };
const SERVER_NAME = 'grpc.verdict.test';
const skip = opensslMissingReason();

interface Pki {
  dir: string;
  ca: Buffer;
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCert: Buffer;
  clientKey: Buffer;
  otherCa: Buffer;
}

/** A throwaway CA, a server certificate for SERVER_NAME, a client certificate, an unrelated CA. */
function makePki(): { pki: Pki; cleanup: () => void } {
  const certs = createTestCertificates({ serverNames: [SERVER_NAME] });
  const other = createTestCertificates({ serverNames: [SERVER_NAME] });
  const pki: Pki = {
    dir: certs.dir,
    ca: Buffer.from(certs.ca.certPem),
    caFile: certs.ca.certFile,
    certFile: certs.server.certFile,
    keyFile: certs.server.keyFile,
    clientCert: Buffer.from(certs.client.certPem),
    clientKey: Buffer.from(certs.client.keyPem),
    otherCa: Buffer.from(other.ca.certPem),
  };
  return {
    pki,
    cleanup: () => {
      certs.cleanup();
      other.cleanup();
    },
  };
}

async function checkHealth(address: string, creds: ChannelCredentials): Promise<ServingStatus> {
  const client = createGrpcClient(health.HealthClient, address, {
    credentials: creds,
    defaultDeadlineMs: 3_000,
    channelOptions: { 'grpc.ssl_target_name_override': SERVER_NAME },
  });
  try {
    return (await client.unary('check', { service: '' })).status;
  } finally {
    client.close();
  }
}

describe('createGrpcServer with tls', { skip }, () => {
  let pki: Pki;
  let cleanupPki: (() => void) | undefined;
  const servers: GrpcServer[] = [];
  const start = async (options: Parameters<typeof createGrpcServer>[0]): Promise<GrpcServer> => {
    const server = createGrpcServer({ host: '127.0.0.1', logger: silent, ...options });
    servers.push(server);
    await server.start();
    return server;
  };

  before(() => {
    ({ pki, cleanup: cleanupPki } = makePki());
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    cleanupPki?.();
  });

  it('server auth: answers a client trusting the CA, refuses plaintext and an untrusting client', async () => {
    const server = await start({ port: 0, tls: { certFile: pki.certFile, keyFile: pki.keyFile } });
    assert.equal(server.transport, 'tls (server auth)');
    assert.equal(await checkHealth(server.address, credentials.createSsl(pki.ca)), ServingStatus.SERVING);
    await assert.rejects(checkHealth(server.address, credentials.createInsecure()), (e: unknown) => {
      assert.ok(isVerdictError(e));
      assert.equal(e.code, 'UNAVAILABLE');
      return true;
    });
    await assert.rejects(
      checkHealth(server.address, credentials.createSsl(pki.otherCa)),
      /UNAVAILABLE|unavailable/i,
    );
  });

  it('mutual: requires a client certificate from the client CA', async () => {
    const server = await start({
      port: 0,
      tls: { certFile: pki.certFile, keyFile: pki.keyFile, clientCaFile: pki.caFile },
    });
    assert.equal(server.transport, 'tls (mutual)');
    const withCert = credentials.createSsl(pki.ca, pki.clientKey, pki.clientCert);
    assert.equal(await checkHealth(server.address, withCert), ServingStatus.SERVING);
    await assert.rejects(checkHealth(server.address, credentials.createSsl(pki.ca)), (e: unknown) => {
      assert.ok(isVerdictError(e));
      assert.equal(e.code, 'UNAVAILABLE');
      return true;
    });
  });

  it('a plaintext health-only server shares the status table and follows the lifecycle', async () => {
    const lifecycle = createLifecycle({ name: 'tls-health', logger: silent });
    const main = createGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      lifecycle,
      tls: { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile, 'utf8') },
    });
    const probe = createGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      lifecycle,
      health: main.health,
    });
    assert.equal(probe.transport, 'plaintext');
    lifecycle.register(probe);
    lifecycle.register(main);
    main.health.register('test.v1.Thing', false);
    await lifecycle.start();
    try {
      const plain = credentials.createInsecure();
      assert.equal(await checkHealth(probe.address, plain), ServingStatus.NOT_SERVING);
      main.health.setReady('test.v1.Thing', true);
      assert.equal(await checkHealth(probe.address, plain), ServingStatus.SERVING);
      assert.equal(await checkHealth(main.address, credentials.createSsl(pki.ca)), ServingStatus.SERVING);
      // The probe port serves health only.
      const thing = createGrpcClient(health.HealthClient, probe.address, { defaultDeadlineMs: 3_000 });
      try {
        await assert.rejects(thing.unary('check', { service: 'nope' }), /unknown service nope/);
      } finally {
        thing.close();
      }
    } finally {
      await lifecycle.stop('test over');
    }
    assert.equal(main.health.status(''), ServingStatus.NOT_SERVING);
  });

  it('bad material fails at creation, naming the option or its label', () => {
    const fail = (fn: () => unknown, message: RegExp) =>
      assert.throws(fn, (e: unknown) => {
        assert.ok(isVerdictError(e));
        assert.equal(e.code, 'INVALID_ARGUMENT');
        assert.match(e.message, message);
        return true;
      });
    fail(
      () => createGrpcServer({ port: 0, logger: silent, tls: { certFile: pki.certFile } }),
      /tls\.cert and tls\.key go together: set both or neither \(only tls\.cert is set\)/,
    );
    fail(
      () =>
        resolveGrpcServerTls(
          { certFile: join(pki.dir, 'missing.pem'), keyFile: pki.keyFile },
          { cert: 'X_CERT_FILE', key: 'X_KEY_FILE' },
        ),
      /^X_CERT_FILE .*missing\.pem cannot be read \(ENOENT\)$/,
    );
    // The client's key does not belong to the server certificate.
    fail(
      () => resolveGrpcServerTls({ certFile: pki.certFile, key: pki.clientKey }),
      /tls\.cert \/ tls\.key: not a usable PEM certificate and matching private key/,
    );
    fail(
      () => resolveGrpcServerTls({ certFile: pki.certFile, keyFile: pki.keyFile, clientCa: 'not a pem' }),
      /tls\.clientCa: not a usable PEM CA bundle/,
    );
    fail(
      () => resolveGrpcServerTls({ certFile: pki.certFile, keyFile: pki.keyFile, requireClientCert: true }),
      /requiring client certificates needs tls\.clientCa/,
    );
  });
});
