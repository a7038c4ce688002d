// The openssl test PKI: real certificates checked with node:crypto and a real mutual-TLS
// handshake over node:tls on port 0.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { natsServerAuthArgs } from '../nats-server/nats-server-auth.js';
import {
  createTestCertificates,
  DEFAULT_TEST_SERVER_NAMES,
  opensslMissingReason,
  type TestCertificates,
} from './tls-certificates.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Completes a TLS handshake to a server using `certs`, requiring a client certificate. */
async function handshake(certs: TestCertificates, withClientCert: boolean): Promise<string> {
  const server = createServer({
    cert: certs.server.certPem,
    key: certs.server.keyPem,
    ca: certs.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('secureConnection', (socket) => socket.end('hello'));
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        ca: certs.ca.certPem,
        ...(withClientCert ? { cert: certs.client.certPem, key: certs.client.keyPem } : {}),
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('createTestCertificates', { skip: opensslMissingReason() }, () => {
  let certs: TestCertificates;
  before(() => {
    certs = createTestCertificates();
  });
  after(() => certs?.cleanup());

  it('signs a server and a client leaf with the CA, with the right key usages', () => {
    const ca = new X509Certificate(certs.ca.certPem);
    const server = new X509Certificate(certs.server.certPem);
    const client = new X509Certificate(certs.client.certPem);
    assert.ok(ca.verify(ca.publicKey), 'the CA is self-signed');
    assert.ok(server.verify(ca.publicKey) && server.checkIssued(ca));
    assert.ok(client.verify(ca.publicKey) && client.checkIssued(ca));
    assert.deepEqual(server.keyUsage, [SERVER_AUTH]);
    assert.deepEqual(client.keyUsage, [CLIENT_AUTH]);
    for (const pair of [certs.ca, certs.server, certs.client]) {
      assert.ok(existsSync(pair.certFile) && existsSync(pair.keyFile));
      assert.match(pair.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    }
  });

  it('the default server names cover localhost, the 127.0.0.1 IP and the test service names', () => {
    const server = new X509Certificate(certs.server.certPem);
    assert.deepEqual(certs.serverNames, DEFAULT_TEST_SERVER_NAMES);
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    for (const name of ['localhost', 'judge.verdict.test', 'grpc.verdict.test']) {
      assert.equal(server.checkHost(name), name);
    }
    assert.equal(server.checkHost('other.verdict.test'), undefined);
  });

  it('serves mutual TLS: the client certificate is accepted, its absence refused', async () => {
    assert.equal(await handshake(certs, true), 'hello');
    await assert.rejects(handshake(certs, false));
  });

  it('custom server names replace the defaults; cleanup() removes the directory', () => {
    const own = createTestCertificates({ serverNames: ['only.verdict.test'] });
    try {
      const server = new X509Certificate(own.server.certPem);
      assert.equal(server.checkHost('only.verdict.test'), 'only.verdict.test');
      assert.equal(server.checkIP('127.0.0.1'), undefined);
      assert.equal(server.checkHost('localhost'), undefined);
      assert.notEqual(own.ca.certPem, certs.ca.certPem);
    } finally {
      own.cleanup();
    }
    assert.equal(existsSync(own.dir), false);
    assert.throws(() => createTestCertificates({ serverNames: [] }), /serverNames is empty/);
  });
});

describe('natsServerAuthArgs', () => {
  it('builds user/password, token and TLS flags', () => {
    const tls = { certFile: '/c.pem', keyFile: '/k.pem' };
    assert.deepEqual(natsServerAuthArgs({ user: 'u', password: 'p' }), ['--user', 'u', '--pass', 'p']);
    assert.deepEqual(natsServerAuthArgs({ token: 't' }), ['--auth', 't']);
    assert.deepEqual(natsServerAuthArgs({ tls, tlsClientCaFile: '/ca.pem' }), [
      '--tls',
      '--tlscert',
      '/c.pem',
      '--tlskey',
      '/k.pem',
      '--tlsverify',
      '--tlscacert',
      '/ca.pem',
    ]);
  });

  it('refuses combinations nats-server would reject or ignore', () => {
    assert.throws(() => natsServerAuthArgs({ user: 'u' }), /user and password go together/);
    assert.throws(
      () => natsServerAuthArgs({ user: 'u', password: 'p', token: 't' }),
      /token and user\/password are exclusive/,
    );
    assert.throws(() => natsServerAuthArgs({ tlsClientCaFile: '/ca.pem' }), /tlsClientCaFile needs tls/);
  });
});
