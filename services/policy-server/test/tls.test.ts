// TLS and mutual TLS on the policy-server's gRPC port (POLICY_TLS_*), real certificates made by
// openssl at test time, and the plaintext health-only port (POLICY_HEALTH_PORT) for probes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { policyV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError } from '@verdict/runtime';
import {
  createTestCertificates,
  healthCheckOver,
  linesWithKeyMaterial,
  opensslMissingReason,
  recordingLogger,
  type TestCertificates,
  testChannel,
} from '@verdict/runtime/testing';
import { createPolicyApp, type PolicyApp } from '../src/app.js';
import { loadPolicyConfig } from '../src/config.js';
import { POLICY_SERVICE_NAME } from '../src/index.js';
import { stories260kDir } from './fixture.js';

const SERVER_NAME = 'grpc.verdict.test';
const skip = opensslMissingReason();

describe('policy-server TLS', { skip }, () => {
  let certs: TestCertificates;
  const apps: PolicyApp[] = [];
  const tlsEnv = () => ({
    POLICY_TLS_CERT_FILE: certs.server.certFile,
    POLICY_TLS_KEY_FILE: certs.server.keyFile,
    POLICY_HEALTH_PORT: '0',
  });
  const start = async (env: Record<string, string>) => {
    const { logger, lines } = recordingLogger();
    const config = loadPolicyConfig({
      POLICY_MODEL_DIR: stories260kDir(),
      POLICY_PORT: '0',
      POLICY_HOST: '127.0.0.1',
      POLICY_GRACE_TIMEOUT: '5s',
      ...env,
    });
    const app = createPolicyApp(config, { logger });
    apps.push(app);
    return { app, lines, ...(await app.start()) };
  };
  const check = (address: string, kind: Parameters<typeof healthCheckOver>[2]) =>
    healthCheckOver(address, certs, kind, { service: POLICY_SERVICE_NAME, serverName: SERVER_NAME });

  before(() => {
    certs = createTestCertificates({ serverNames: [SERVER_NAME] });
  });
  after(async () => {
    for (const app of apps) await app.stop();
    certs?.cleanup();
  });

  it('server auth: GetModelInfo over TLS with the CA; plaintext and an untrusted CA are refused; health port SERVING', async () => {
    const { address, healthAddress, lines } = await start(tlsEnv());
    assert.ok(
      lines.some((l) => l.startsWith('grpc: tls (server auth)')),
      lines.join('\n'),
    );
    const client = createGrpcClient(policyV1.PolicyServiceClient, address, {
      ...testChannel(certs, 'tls', SERVER_NAME),
      defaultDeadlineMs: 10_000,
    });
    try {
      const info = await client.unary('getModelInfo', {});
      assert.equal(info.ready, true);
    } finally {
      client.close();
    }
    assert.equal(await check(address, 'tls'), 'SERVING');
    assert.equal(await check(address, 'plaintext'), 'UNAVAILABLE');
    assert.equal(await check(address, 'tls-no-ca'), 'UNAVAILABLE');
    assert.ok(healthAddress !== undefined && healthAddress !== address);
    assert.equal(await check(healthAddress, 'plaintext'), 'SERVING');
  });

  it('mutual TLS: a client certificate is accepted, a client without one refused; no key material in the logs', async () => {
    const { address, healthAddress, lines } = await start({
      ...tlsEnv(),
      POLICY_TLS_CLIENT_CA_FILE: certs.ca.certFile,
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
    assert.ok(lines.length > 0);
    assert.deepEqual(linesWithKeyMaterial(lines, certs), []);
    // The check itself would see a key that was logged.
    assert.equal(
      linesWithKeyMaterial([`config ${JSON.stringify({ key: certs.server.keyPem })}`], certs).length,
      1,
    );
  });

  it('TLS config errors name the variables', () => {
    const base = { POLICY_MODEL_DIR: stories260kDir() };
    const fail = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadPolicyConfig({ ...base, ...env }),
        (e: unknown) => isVerdictError(e) && e.code === 'INVALID_ARGUMENT' && message.test(e.message),
      );
    fail(
      { POLICY_TLS_CERT_FILE: certs.server.certFile },
      /POLICY_TLS_CERT_FILE and POLICY_TLS_KEY_FILE go together/,
    );
    fail(
      { POLICY_TLS_CERT_FILE: certs.server.certFile, POLICY_TLS_KEY_FILE: join(certs.dir, 'missing.key') },
      /POLICY_TLS_KEY_FILE .*missing\.key cannot be read \(ENOENT\)/,
    );
    fail(
      { POLICY_TLS_CLIENT_CA_FILE: certs.ca.certFile },
      /POLICY_TLS_CLIENT_CA_FILE needs POLICY_TLS_CERT_FILE/,
    );
    assert.equal(loadPolicyConfig(base).tls, undefined);
  });
});
