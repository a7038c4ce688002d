// NATS credentials reach the policy-server's connection: NATS_TOKEN / NATS_USER+NATS_PASSWORD
// from its config schema (the shared natsConnectionEnv fragment) against a real nats-server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVerdictError, type RuntimeLogger } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import { loadPolicyConfig } from '../src/config.js';
import { stories260kDir } from './fixture.js';
import { startPolicy } from './helpers.js';

const TOKEN = 'policy-token-4c1';

function captureLogger(): { logger: RuntimeLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (message: string) => lines.push(message);
  return { logger: { debug: log, info: log, warn: log, error: log }, lines };
}

describe('policy-server NATS credentials', () => {
  let nats: NatsServerHandle;
  before(async () => {
    nats = await startNatsServer({ auth: { token: TOKEN } });
  });
  after(async () => {
    await nats?.stop();
  });

  it('the NATS variables live under config.nats.connection; bad combinations fail the load', () => {
    const base = { POLICY_MODEL_DIR: stories260kDir(), NATS_URL: 'nats://127.0.0.1:4222' };
    const config = loadPolicyConfig({ ...base, NATS_TOKEN: TOKEN });
    assert.equal(config.nats.connection.token, TOKEN);
    assert.throws(
      () => loadPolicyConfig({ ...base, NATS_TOKEN: TOKEN, NATS_USER: 'u', NATS_PASSWORD: 'p' }),
      (err: unknown) =>
        isVerdictError(err) &&
        err.code === 'INVALID_ARGUMENT' &&
        err.message.includes('set only one NATS auth method, got NATS_USER/NATS_PASSWORD and NATS_TOKEN'),
    );
  });

  it('starts with NATS_TOKEN against a token-auth server and logs auth: token', async () => {
    const { logger, lines } = captureLogger();
    const { app } = await startPolicy({ NATS_URL: nats.url, NATS_TOKEN: TOKEN }, { logger });
    try {
      assert.equal(app.health().natsConnected, true);
    } finally {
      await app.stop('test');
    }
    assert.ok(lines.includes(`nats: connected to ${nats.url} (auth: token, tls: off)`), lines.join('\n'));
    assert.ok(!lines.join('\n').includes(TOKEN));
  });

  it('without the token the start fails with PERMISSION_DENIED', async () => {
    const { logger } = captureLogger();
    await assert.rejects(
      startPolicy({ NATS_URL: nats.url }, { logger }),
      (err: unknown) =>
        isVerdictError(err) &&
        err.code === 'PERMISSION_DENIED' &&
        err.message.includes('rejected the connection (auth: none)'),
    );
  });
});
