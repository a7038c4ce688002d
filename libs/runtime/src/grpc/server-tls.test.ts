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
import {
  createTestCertificates,
  opensslMissingReason,
  type TestCertificates,
} from '../testing/tls-certificates.js';
import { createGrpcClient } from './client.js';
import { ServingStatus } from './health.js';
import { createGrpcServer, type GrpcServer } from './server.js';
import { resolveGrpcServerTls } from './server-tls.js';

const silent: RuntimeLogger = { debug() {}, info() {}, warn() {}, error() {} };
const SERVER_NAME = 'grpc.verdict.test';
const skip = opensslMissingReason();

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
  let certs: TestCertificates;
  // An unrelated CA: a client trusting only it must refuse the server.
  let otherCerts: TestCertificates;
  const servers: GrpcServer[] = [];
  const start = async (options: Parameters<typeof createGrpcServer>[0]): Promise<GrpcServer> => {
    const server = createGrpcServer({ host: '127.0.0.1', logger: silent, ...options });
    servers.push(server);
    await server.start();
    return server;
  };

  before(() => {
    certs = createTestCertificates({ serverNames: [SERVER_NAME] });
    otherCerts = createTestCertificates({ serverNames: [SERVER_NAME] });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    certs?.cleanup();
    otherCerts?.cleanup();
  });

  it('server auth: answers a client trusting the CA, refuses plaintext and an untrusting client', async () => {
    const server = await start({
      port: 0,
      tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile },
    });
    assert.equal(server.transport, 'tls (server auth)');
    assert.equal(
      await checkHealth(server.address, credentials.createSsl(Buffer.from(certs.ca.certPem))),
      ServingStatus.SERVING,
    );
    await assert.rejects(checkHealth(server.address, credentials.createInsecure()), (e: unknown) => {
      assert.ok(isVerdictError(e));
      assert.equal(e.code, 'UNAVAILABLE');
      return true;
    });
    await assert.rejects(
      checkHealth(server.address, credentials.createSsl(Buffer.from(otherCerts.ca.certPem))),
      /UNAVAILABLE|unavailable/i,
    );
  });

  it('mutual: requires a client certificate from the client CA', async () => {
    const server = await start({
      port: 0,
      tls: {
        certFile: certs.server.certFile,
        keyFile: certs.server.keyFile,
        clientCaFile: certs.ca.certFile,
      },
    });
    assert.equal(server.transport, 'tls (mutual)');
    const withCert = credentials.createSsl(
      Buffer.from(certs.ca.certPem),
      Buffer.from(certs.client.keyPem),
      Buffer.from(certs.client.certPem),
    );
    assert.equal(await checkHealth(server.address, withCert), ServingStatus.SERVING);
    await assert.rejects(
      checkHealth(server.address, credentials.createSsl(Buffer.from(certs.ca.certPem))),
      (e: unknown) => {
        assert.ok(isVerdictError(e));
        assert.equal(e.code, 'UNAVAILABLE');
        return true;
      },
    );
  });

  it('a plaintext health-only server shares the status table and follows the lifecycle', async () => {
    const lifecycle = createLifecycle({ name: 'tls-health', logger: silent });
    const main = createGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      lifecycle,
      tls: { cert: readFileSync(certs.server.certFile), key: readFileSync(certs.server.keyFile, 'utf8') },
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
      assert.equal(
        await checkHealth(main.address, credentials.createSsl(Buffer.from(certs.ca.certPem))),
        ServingStatus.SERVING,
      );
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
      () => createGrpcServer({ port: 0, logger: silent, tls: { certFile: certs.server.certFile } }),
      /tls\.cert and tls\.key go together: set both or neither \(only tls\.cert is set\)/,
    );
    fail(
      () =>
        resolveGrpcServerTls(
          { certFile: join(certs.dir, 'missing.pem'), keyFile: certs.server.keyFile },
          { cert: 'X_CERT_FILE', key: 'X_KEY_FILE' },
        ),
      /^X_CERT_FILE .*missing\.pem cannot be read \(ENOENT\)$/,
    );
    // The client's key does not belong to the server certificate.
    fail(
      () => resolveGrpcServerTls({ certFile: certs.server.certFile, key: Buffer.from(certs.client.keyPem) }),
      /tls\.cert \/ tls\.key: not a usable PEM certificate and matching private key/,
    );
    fail(
      () =>
        resolveGrpcServerTls({
          certFile: certs.server.certFile,
          keyFile: certs.server.keyFile,
          clientCa: 'not a pem',
        }),
      /tls\.clientCa: not a usable PEM CA bundle/,
    );
    fail(
      () =>
        resolveGrpcServerTls({
          certFile: certs.server.certFile,
          keyFile: certs.server.keyFile,
          requireClientCert: true,
        }),
      /requiring client certificates needs tls\.clientCa/,
    );
  });
});
