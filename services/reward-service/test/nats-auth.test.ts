// NATS credentials and TLS reach the reward-service's connection: NATS_USER/NATS_PASSWORD and
// NATS_TLS_CA_FILE from its config schema (the shared natsConnectionEnv fragment) against a real
// nats-server that requires both, with a throwaway CA made by openssl at test time.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVerdictError, type RuntimeLogger } from '@verdict/runtime';
import {
  createTestCertificates,
  type NatsServerHandle,
  opensslMissingReason,
  startNatsServer,
  type TestCertificates,
} from '@verdict/runtime/testing';
import { createRewardServiceApp } from '../src/app.js';
import { loadRewardServiceConfig } from '../src/config.js';

const USER = 'reward';
const PASSWORD = 'reward-secret-9';
const noOpenssl = opensslMissingReason();

function captureLogger(): { logger: RuntimeLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (message: string) => lines.push(message);
  return { logger: { debug: log, info: log, warn: log, error: log }, lines };
}

describe('reward-service NATS credentials and TLS', { skip: noOpenssl }, () => {
  let nats: NatsServerHandle;
  let certs: TestCertificates;
  before(async () => {
    // nats.js checks a server dialled by IP against the names 127.0.0.1 and localhost.
    certs = createTestCertificates({ serverNames: ['127.0.0.1', 'localhost'] });
    nats = await startNatsServer({ auth: { user: USER, password: PASSWORD, tls: certs.server } });
  });
  after(async () => {
    await nats?.stop();
    certs?.cleanup();
  });

  // λ = 1: no judge term, so the service needs NATS only.
  const env = (extra: Record<string, string>) => ({
    NATS_URL: `tls://127.0.0.1:${nats.port}`,
    REWARD_HOST: '127.0.0.1',
    REWARD_PORT: '0',
    REWARD_LAMBDA_VR: '1',
    REWARD_MU_JUDGE: '0',
    ...extra,
  });

  it('config problems name the variables, with the other cross-field problems', () => {
    assert.throws(
      () => loadRewardServiceConfig(env({ NATS_PASSWORD: PASSWORD, REWARD_MU_JUDGE: '0.5' })),
      (err: unknown) =>
        isVerdictError(err) &&
        err.code === 'INVALID_ARGUMENT' &&
        err.message.includes(
          'NATS_USER and NATS_PASSWORD must be set together (NATS_PASSWORD is set, NATS_USER is not)',
        ) &&
        err.message.includes('REWARD_LAMBDA_VR + REWARD_MU_JUDGE + REWARD_RHO_RERANK must be 1') &&
        !err.message.includes(PASSWORD),
    );
    assert.throws(
      () => loadRewardServiceConfig(env({ NATS_CREDS_FILE: join(certs.dir, 'missing.creds') })),
      /NATS_CREDS_FILE=/,
    );
  });

  it('connects over TLS with NATS_TLS_CA_FILE and the user, and logs it without the password', async () => {
    const { logger, lines } = captureLogger();
    const config = loadRewardServiceConfig(
      env({ NATS_USER: USER, NATS_PASSWORD: PASSWORD, NATS_TLS_CA_FILE: certs.ca.certFile }),
    );
    const app = createRewardServiceApp(config, { logger, telemetry: false });
    await app.start();
    await app.stop('test');
    assert.ok(
      lines.includes(`nats: connected to tls://127.0.0.1:${nats.port} (auth: user, tls: on)`),
      lines.join('\n'),
    );
    assert.ok(!lines.join('\n').includes(PASSWORD));
  });

  it('a wrong password fails the start with PERMISSION_DENIED (not retried forever)', async () => {
    // A missing CA is not tried here: with waitOnFirstConnect (pods that start before NATS)
    // nats.js retries TLS failures forever; the runtime test covers the refusal itself.
    const { logger } = captureLogger();
    const config = loadRewardServiceConfig(
      env({ NATS_USER: USER, NATS_PASSWORD: 'wrong', NATS_TLS_CA_FILE: certs.ca.certFile }),
    );
    const app = createRewardServiceApp(config, { logger, telemetry: false });
    await assert.rejects(
      app.start(),
      (err: unknown) =>
        isVerdictError(err) &&
        err.code === 'PERMISSION_DENIED' &&
        err.message.startsWith(`NATS at tls://127.0.0.1:${nats.port} rejected the connection (auth: user)`),
    );
    await app.stop('test').catch(() => {});
  });
});
