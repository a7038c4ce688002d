// TLS and mutual TLS on the reward-service's own gRPC port (REWARD_TLS_*), real certificates made
// by openssl at test time, a real nats-server, and the plaintext health-only port (REWARD_HEALTH_PORT).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVerdictError } from '@verdict/runtime';
import {
  createTestCertificates,
  healthCheckOver,
  itServesTls,
  type NatsServerHandle,
  opensslMissingReason,
  recordingLogger,
  startNatsServer,
  type TestCertificates,
  type TestChannelKind,
} from '@verdict/runtime/testing';
import type { RewardServiceApp } from '../src/app.js';
import { loadRewardServiceConfig } from '../src/config.js';
import { REWARD_SERVICE_NAME } from '../src/index.js';
import { createTestRewardApp } from './helpers.js';

const SERVER_NAME = 'grpc.verdict.test';
const skip = opensslMissingReason();

describe('reward-service TLS', { skip }, () => {
  let certs: TestCertificates;
  let nats: NatsServerHandle;
  const apps: RewardServiceApp[] = [];
  const tlsEnv = () => ({
    REWARD_TLS_CERT_FILE: certs.server.certFile,
    REWARD_TLS_KEY_FILE: certs.server.keyFile,
    REWARD_HEALTH_PORT: '0',
  });
  const start = async (env: Record<string, string>) => {
    const { logger, lines } = recordingLogger();
    // λ = 1: verifiable reward only, no judge needed.
    const app = createTestRewardApp(
      { NATS_URL: nats.url, REWARD_LAMBDA_VR: '1', REWARD_MU_JUDGE: '0', ...env },
      { logger, consume: false },
    );
    apps.push(app);
    return { lines, ...(await app.start()) };
  };
  const _check = (address: string, kind: TestChannelKind) =>
    healthCheckOver(address, certs, kind, { service: REWARD_SERVICE_NAME, serverName: SERVER_NAME });

  before(async () => {
    certs = createTestCertificates({ serverNames: [SERVER_NAME] });
    nats = await startNatsServer();
  });
  after(async () => {
    for (const app of apps) await app.stop();
    await nats?.stop();
    certs?.cleanup();
  });

  itServesTls({
    prefix: 'REWARD',
    service: REWARD_SERVICE_NAME,
    serverName: SERVER_NAME,
    certs: () => certs,
    tlsEnv: tlsEnv,
    start,
  });

  it('TLS config errors name the variables, with the other problems', () => {
    const base = { NATS_URL: 'nats://127.0.0.1:4222', REWARD_LAMBDA_VR: '1', REWARD_MU_JUDGE: '0' };
    const fail = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadRewardServiceConfig({ ...base, ...env }),
        (e: unknown) => isVerdictError(e) && e.code === 'INVALID_ARGUMENT' && message.test(e.message),
      );
    fail(
      { REWARD_TLS_KEY_FILE: certs.server.keyFile },
      /REWARD_TLS_CERT_FILE and REWARD_TLS_KEY_FILE go together/,
    );
    fail(
      { REWARD_TLS_CERT_FILE: join(certs.dir, 'missing.pem'), REWARD_TLS_KEY_FILE: certs.server.keyFile },
      /REWARD_TLS_CERT_FILE .*missing\.pem cannot be read \(ENOENT\)/,
    );
    fail(
      {
        REWARD_TLS_CERT_FILE: certs.server.certFile,
        REWARD_TLS_KEY_FILE: certs.client.keyFile,
        REWARD_LAMBDA_VR: '0.5',
      },
      /2 problems[\s\S]*must be 1[\s\S]*not a usable PEM certificate and matching private key/,
    );
    assert.equal(loadRewardServiceConfig(base).tls, undefined);
  });
});
