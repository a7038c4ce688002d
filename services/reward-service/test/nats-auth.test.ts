// NATS credentials and TLS reach the reward-service's connection: NATS_USER/NATS_PASSWORD and
// NATS_TLS_CA_FILE from its config schema (the shared natsConnectionEnv fragment) against a real
// nats-server that requires both, with a throwaway CA made by openssl at test time.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVerdictError, type RuntimeLogger } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import { createRewardServiceApp } from '../src/app.js';
import { loadRewardServiceConfig } from '../src/config.js';

const USER = 'reward';
const PASSWORD = 'reward-secret-9';
const noOpenssl =
  spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not installed: no test certificates';

function captureLogger(): { logger: RuntimeLogger; lines: string[] } {
  const lines: string[] = [];
  const log = (message: string) => lines.push(message);
  return { logger: { debug: log, info: log, warn: log, error: log }, lines };
}

/** A CA and a server certificate in `dir` (nats.js checks IP hosts against the name `localhost`). */
function makeCerts(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test-ca');
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=nats');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
}

describe('reward-service NATS credentials and TLS', { skip: noOpenssl }, () => {
  let nats: NatsServerHandle;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'verdict-reward-nats-'));
    makeCerts(dir);
    nats = await startNatsServer({
      extraArgs: [
        '--user',
        USER,
        '--pass',
        PASSWORD,
        '--tls',
        '--tlscert',
        join(dir, 'server.pem'),
        '--tlskey',
        join(dir, 'server.key'),
      ],
    });
  });
  after(async () => {
    await nats?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
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
      () => loadRewardServiceConfig(env({ NATS_CREDS_FILE: join(dir, 'missing.creds') })),
      /NATS_CREDS_FILE=/,
    );
  });

  it('connects over TLS with NATS_TLS_CA_FILE and the user, and logs it without the password', async () => {
    const { logger, lines } = captureLogger();
    const config = loadRewardServiceConfig(
      env({ NATS_USER: USER, NATS_PASSWORD: PASSWORD, NATS_TLS_CA_FILE: join(dir, 'ca.pem') }),
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
      env({ NATS_USER: USER, NATS_PASSWORD: 'wrong', NATS_TLS_CA_FILE: join(dir, 'ca.pem') }),
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
