// TLS and mutual TLS on the policy-server's gRPC port (POLICY_TLS_*), real certificates made by
// openssl at test time, and the plaintext health-only port (POLICY_HEALTH_PORT) for probes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVerdictError } from '@verdict/runtime';
import {
  createTestCertificates,
  healthCheckOver,
  itServesTls,
  opensslMissingReason,
  recordingLogger,
  type TestCertificates,
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
  const _check = (address: string, kind: Parameters<typeof healthCheckOver>[2]) =>
    healthCheckOver(address, certs, kind, { service: POLICY_SERVICE_NAME, serverName: SERVER_NAME });

  before(() => {
    certs = createTestCertificates({ serverNames: [SERVER_NAME] });
  });
  after(async () => {
    for (const app of apps) await app.stop();
    certs?.cleanup();
  });

  itServesTls({
    prefix: 'POLICY',
    service: POLICY_SERVICE_NAME,
    serverName: SERVER_NAME,
    certs: () => certs,
    tlsEnv: tlsEnv,
    start,
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
