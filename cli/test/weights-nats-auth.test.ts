// `verdict weights push/pull` against a REAL nats-server that requires a user/password and TLS:
// credentials and TLS come from NATS_* (as the Helm chart's init container gets them) or flags.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeRandomToyModel } from '@verdict/recipes';
import {
  createTestCertificates,
  type NatsServerHandle,
  opensslMissingReason,
  startNatsServer,
  type TestCertificates,
} from '@verdict/runtime/testing';
import { UsageError } from '../src/index.js';
import { resolveWeightsNatsAuth } from '../src/weights/weights-nats.js';
import { verdictInProcess } from './in-process.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const USER = 'weights';
const PASSWORD = 'weights-secret-5';
const noOpenssl = opensslMissingReason();
const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

const verdict = (args: string[], env: Record<string, string>) => verdictInProcess(args, env);

describe('weights NATS auth resolution (env + flags)', () => {
  it('reads NATS_USER/NATS_PASSWORD and NATS_TLS_*; flags win; bad input is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-cli-auth-'));
    try {
      const ca = join(dir, 'ca.pem');
      const creds = join(dir, 'x.creds');
      writeFileSync(ca, 'x');
      writeFileSync(creds, 'x');
      assert.deepEqual(
        await resolveWeightsNatsAuth({}, { NATS_USER: USER, NATS_PASSWORD: PASSWORD, NATS_TLS_CA_FILE: ca }),
        {
          user: USER,
          pass: PASSWORD,
          tls: { caFile: ca },
        },
      );
      assert.deepEqual(
        await resolveWeightsNatsAuth({ creds, tlsCa: ca }, { NATS_USER: USER, NATS_PASSWORD: PASSWORD }),
        {
          credsFile: creds,
          tls: { caFile: ca },
        },
      );
      assert.deepEqual(await resolveWeightsNatsAuth({}, {}), {});
      await assert.rejects(
        resolveWeightsNatsAuth({}, { NATS_USER: USER }),
        (e: unknown) =>
          e instanceof UsageError && /NATS_USER and NATS_PASSWORD must be set together/.test(e.message),
      );
      await assert.rejects(
        resolveWeightsNatsAuth({ tlsCa: join(dir, 'missing.pem') }, {}),
        (e: unknown) =>
          e instanceof UsageError && e.message === `--tls-ca ${join(dir, 'missing.pem')} cannot be read`,
      );
      await assert.rejects(
        resolveWeightsNatsAuth({ tlsCert: ca }, {}),
        (e: unknown) => e instanceof UsageError && /--tls-cert and --tls-key/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('verdict weights with a user/password + TLS nats-server', { skip: noOpenssl }, () => {
  let nats: NatsServerHandle;
  let work: string;
  let certs: TestCertificates;
  let modelDir: string;
  let url: string;
  let env: Record<string, string>;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'verdict-cli-weights-auth-'));
    // nats.js checks a server dialled by IP against the names 127.0.0.1 and localhost.
    certs = createTestCertificates({ serverNames: ['127.0.0.1', 'localhost'] });
    nats = await startNatsServer({ auth: { user: USER, password: PASSWORD, tls: certs.server } });
    url = `tls://127.0.0.1:${nats.port}`;
    env = { NATS_USER: USER, NATS_PASSWORD: PASSWORD, NATS_TLS_CA_FILE: certs.ca.certFile };
    modelDir = writeRandomToyModel(join(work, 'model'), {
      hiddenSize: 32,
      layers: 2,
      maxPositions: 64,
      seed: 3,
    });
  });
  after(async () => {
    await nats?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
    certs?.cleanup();
  });

  it('push (env) then pull as the init container runs it (spawned bin, env only)', async () => {
    const push = await verdict(['weights', 'push', '--nats', url, '--name', 'toy', '--model', modelDir], env);
    assert.equal(push.code, 0, push.stderr);
    assert.match(
      push.stderr,
      new RegExp(`nats: connected to tls://127\\.0\\.0\\.1:${nats.port} \\(auth: user, tls: on\\)`),
    );
    assert.ok(!push.stderr.includes(PASSWORD));

    const out = join(work, 'pulled', 'toy');
    const pull = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        'npx',
        ['--no-install', 'verdict', 'weights', 'pull', '--nats', url, '--name', 'toy', '--out', out],
        { cwd: repoRoot, env: { ...process.env, ...env } },
        (e, _stdout, stderr) =>
          done({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : -1, stderr }),
      ),
    );
    assert.equal(pull.code, 0, pull.stderr);
    for (const f of MODEL_FILES) {
      assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(modelDir, f))), `${f} differs`);
    }
  });

  it('a wrong password is exit 1 naming the refusal; a missing CA flag file is exit 2', async () => {
    const wrong = await verdict(
      ['weights', 'pull', '--nats', url, '--name', 'toy', '--out', join(work, 'never')],
      { ...env, NATS_PASSWORD: 'wrong' },
    );
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /rejected the connection \(auth: user\)/);
    const noCa = await verdict(
      [
        'weights',
        'pull',
        '--nats',
        url,
        '--name',
        'toy',
        '--out',
        join(work, 'never'),
        '--tls-ca',
        join(work, 'nope.pem'),
      ],
      env,
    );
    assert.equal(noCa.code, 2, noCa.stderr);
    assert.match(noCa.stderr, /--tls-ca .*nope\.pem cannot be read/);
  });
});
