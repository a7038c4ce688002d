// NATS credentials reach the learner's connection: NATS_USER/NATS_PASSWORD from its config
// schema (the shared natsConnectionEnv fragment) against a real nats-server with user auth.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVerdictError, type RuntimeLogger } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import { createLearnerApp, loadLearnerConfig } from '../src/index.js';

const USER = 'learner';
const PASSWORD = 'learner-secret-7';

function captureLogger(): { logger: RuntimeLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (message: string) => lines.push(message);
  return { logger: { debug: log, info: log, warn: log, error: log }, lines };
}

describe('learner NATS credentials', () => {
  let nats: NatsServerHandle;
  const runsDir = mkdtempSync(join(tmpdir(), 'verdict-learner-auth-'));
  before(async () => {
    nats = await startNatsServer({ auth: { user: USER, password: PASSWORD } });
  });
  after(async () => {
    await nats?.stop();
    rmSync(runsDir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string>) => ({
    NATS_URL: nats.url,
    LEARNER_HOST: '127.0.0.1',
    LEARNER_PORT: '0',
    LEARNER_RUNS_DIR: runsDir,
    ...extra,
  });

  it('NATS_USER without NATS_PASSWORD fails the config load naming both', () => {
    assert.throws(
      () => loadLearnerConfig(env({ NATS_USER: USER })),
      (err: unknown) =>
        isVerdictError(err) &&
        err.code === 'INVALID_ARGUMENT' &&
        /NATS_USER and NATS_PASSWORD must be set together/.test(err.message),
    );
    assert.throws(
      () => loadLearnerConfig(env({ NATS_TLS_CA_FILE: '/nonexistent/ca.crt' })),
      /NATS_TLS_CA_FILE/,
    );
  });

  it('starts with the right credentials and logs the connection without the password', async () => {
    const { logger, lines } = captureLogger();
    const app = createLearnerApp(loadLearnerConfig(env({ NATS_USER: USER, NATS_PASSWORD: PASSWORD })), {
      logger,
      telemetry: false,
    });
    await app.start();
    await app.stop('test');
    assert.ok(lines.includes(`nats: connected to ${nats.url} (auth: user, tls: off)`), lines.join('\n'));
    assert.ok(!lines.join('\n').includes(PASSWORD));
  });

  it('a wrong password fails the start with PERMISSION_DENIED', async () => {
    const { logger } = captureLogger();
    const app = createLearnerApp(loadLearnerConfig(env({ NATS_USER: USER, NATS_PASSWORD: 'wrong' })), {
      logger,
      telemetry: false,
    });
    await assert.rejects(
      app.start(),
      (err: unknown) =>
        isVerdictError(err) &&
        err.code === 'PERMISSION_DENIED' &&
        err.message.includes('rejected the connection (auth: user)') &&
        !err.message.includes('wrong'),
    );
    await app.stop('test').catch(() => {});
  });
});
