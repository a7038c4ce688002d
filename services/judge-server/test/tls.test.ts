// TLS on the judge-server's gRPC port with real certificates (openssl at test time), the
// plaintext health-only port for probes, and the TLS config errors (exit 2 from main.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ChannelCredentials, credentials } from '@grpc/grpc-js';
import { health, judgeV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError, type RuntimeLogger, type VerdictError } from '@verdict/runtime';
import {
  createTestCertificates,
  opensslMissingReason,
  type TestCertificates,
} from '@verdict/runtime/testing';
import { loadJudgeServerConfig } from '../src/config.js';
import { JUDGE_SERVICE_NAME, type JudgeServerApp } from '../src/index.js';
import { loadModel, startJudgeApp } from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

const SERVER_NAME = 'judge.verdict.test';
const SERVING = health.HealthCheckResponse_ServingStatus.SERVING;
const skip = opensslMissingReason();
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function recordingLogger(lines: string[]): RuntimeLogger {
  const push = (message: string) => {
    lines.push(message);
  };
  return { debug() {}, info: push, warn: push, error: push };
}

const items = [
  { id: 'a', question: 'What is 2+3?', solution: 'The answer is 5.', templateName: '' },
  { id: 'b', question: 'What is 2+3?', solution: 'The answer is 7.', templateName: '' },
];

async function judgeBatch(address: string, creds: ChannelCredentials): Promise<judgeV1.JudgeResult[]> {
  const client = createGrpcClient(judgeV1.JudgeServiceClient, address, {
    credentials: creds,
    defaultDeadlineMs: 5_000,
    // The certificate names SERVER_NAME only; the server is dialled by IP.
    channelOptions: { 'grpc.ssl_target_name_override': SERVER_NAME },
  });
  try {
    return (await client.unary('judgeBatch', { items })).results;
  } finally {
    client.close();
  }
}

async function rejection(promise: Promise<unknown>): Promise<VerdictError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isVerdictError(error), `expected a VerdictError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('judge-server TLS', { skip }, () => {
  const fixture = writeToyJudgeModel();
  const model = loadModel(fixture.dir);
  let certs: TestCertificates;
  const apps: JudgeServerApp[] = [];
  let plainScores: number[];

  const start = async (env: Record<string, string>, logLines: string[] = []) => {
    const app = startJudgeApp(fixture.dir, env, { model, logger: recordingLogger(logLines) });
    apps.push(app);
    return { app, ...(await app.start()) };
  };

  before(async () => {
    certs = createTestCertificates({ serverNames: [SERVER_NAME] });
    const lines: string[] = [];
    const plain = await start({}, lines);
    assert.ok(lines.includes('grpc: plaintext'), lines.join('\n'));
    const results = await judgeBatch(plain.address, credentials.createInsecure());
    plainScores = results.map((r) => r.score);
    assert.equal(plainScores.length, 2);
    assert.notEqual(plainScores[0], plainScores[1]); // random weights still tell the items apart
  });

  after(async () => {
    for (const app of apps) await app.stop();
    await model.close();
    fixture.cleanup();
    certs?.cleanup();
  });

  it('server auth: JudgeBatch over TLS with the CA scores as plaintext does; plaintext is refused', async () => {
    const lines: string[] = [];
    const tls = await start(
      {
        JUDGE_TLS_CERT_FILE: certs.server.certFile,
        JUDGE_TLS_KEY_FILE: certs.server.keyFile,
        JUDGE_HEALTH_PORT: '0',
      },
      lines,
    );
    assert.ok(lines.includes('grpc: tls (server auth)'), lines.join('\n'));
    const results = await judgeBatch(tls.address, credentials.createSsl(Buffer.from(certs.ca.certPem)));
    assert.deepEqual(
      results.map((r) => r.status),
      [judgeV1.JudgeStatus.JUDGE_STATUS_OK, judgeV1.JudgeStatus.JUDGE_STATUS_OK],
    );
    assert.deepEqual(
      results.map((r) => r.score),
      plainScores,
    );
    const plain = await rejection(judgeBatch(tls.address, credentials.createInsecure()));
    assert.equal(plain.code, 'UNAVAILABLE');
    // Without the CA the server certificate is not trusted.
    const noCa = await rejection(judgeBatch(tls.address, credentials.createSsl()));
    assert.equal(noCa.code, 'UNAVAILABLE');
  });

  it('the health port answers SERVING in plaintext and serves nothing else', async () => {
    const tls = await start({
      JUDGE_TLS_CERT_FILE: certs.server.certFile,
      JUDGE_TLS_KEY_FILE: certs.server.keyFile,
      JUDGE_HEALTH_PORT: '0',
    });
    assert.ok(tls.healthAddress !== undefined);
    assert.notEqual(tls.healthAddress, tls.address);
    const probe = createGrpcClient(health.HealthClient, tls.healthAddress, { defaultDeadlineMs: 5_000 });
    try {
      assert.equal((await probe.unary('check', { service: '' })).status, SERVING);
      assert.equal((await probe.unary('check', { service: JUDGE_SERVICE_NAME })).status, SERVING);
    } finally {
      probe.close();
    }
    const onHealthPort = await rejection(judgeBatch(tls.healthAddress, credentials.createInsecure()));
    assert.equal(onHealthPort.code, 'UNIMPLEMENTED');
  });

  it('mutual TLS: a client certificate from the CA is accepted, a client without one refused', async () => {
    const lines: string[] = [];
    const mtls = await start(
      {
        JUDGE_TLS_CERT_FILE: certs.server.certFile,
        JUDGE_TLS_KEY_FILE: certs.server.keyFile,
        JUDGE_TLS_CLIENT_CA_FILE: certs.ca.certFile,
      },
      lines,
    );
    assert.ok(lines.includes('grpc: tls (mutual)'), lines.join('\n'));
    const withCert = await judgeBatch(
      mtls.address,
      credentials.createSsl(
        Buffer.from(certs.ca.certPem),
        Buffer.from(certs.client.keyPem),
        Buffer.from(certs.client.certPem),
      ),
    );
    assert.deepEqual(
      withCert.map((r) => r.score),
      plainScores,
    );
    const without = await rejection(
      judgeBatch(mtls.address, credentials.createSsl(Buffer.from(certs.ca.certPem))),
    );
    assert.equal(without.code, 'UNAVAILABLE');
  });

  it('TLS config errors name the variables', () => {
    const base = { JUDGE_MODEL_DIR: fixture.dir };
    const fail = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadJudgeServerConfig({ ...base, ...env }),
        (e: unknown) => {
          assert.ok(isVerdictError(e));
          assert.equal(e.code, 'INVALID_ARGUMENT');
          assert.match(e.message, message);
          return true;
        },
      );
    fail(
      { JUDGE_TLS_CERT_FILE: certs.server.certFile },
      /JUDGE_TLS_CERT_FILE and JUDGE_TLS_KEY_FILE go together: set both or neither \(only JUDGE_TLS_CERT_FILE is set\)/,
    );
    fail(
      { JUDGE_TLS_KEY_FILE: certs.server.keyFile },
      /JUDGE_TLS_CERT_FILE and JUDGE_TLS_KEY_FILE go together: set both or neither \(only JUDGE_TLS_KEY_FILE is set\)/,
    );
    fail(
      { JUDGE_TLS_CERT_FILE: join(certs.dir, 'missing.pem'), JUDGE_TLS_KEY_FILE: certs.server.keyFile },
      /JUDGE_TLS_CERT_FILE .*missing\.pem cannot be read \(ENOENT\)/,
    );
    fail(
      { JUDGE_TLS_CERT_FILE: certs.server.certFile, JUDGE_TLS_KEY_FILE: certs.client.keyFile },
      /JUDGE_TLS_CERT_FILE \/ JUDGE_TLS_KEY_FILE: not a usable PEM certificate and matching private key/,
    );
    fail(
      { JUDGE_TLS_CLIENT_CA_FILE: certs.ca.certFile },
      /JUDGE_TLS_CLIENT_CA_FILE needs JUDGE_TLS_CERT_FILE/,
    );
    const ok = loadJudgeServerConfig({ ...base });
    assert.equal(ok.tls, undefined);
    assert.ok(Object.isFrozen(ok));
  });

  it('main.ts exits 2 with one line naming an unreadable file', async () => {
    const missing = join(certs.dir, 'nope.key');
    const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
      execFile(
        process.execPath,
        ['bin/judge-server.mjs'],
        {
          cwd: packageDir,
          env: {
            ...process.env,
            JUDGE_MODEL_DIR: fixture.dir,
            JUDGE_TLS_CERT_FILE: certs.server.certFile,
            JUDGE_TLS_KEY_FILE: missing,
          },
        },
        (error, _stdout, stderr) => done({ code: error === null ? 0 : (error.code as number), stderr }),
      );
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /JUDGE_TLS_KEY_FILE .*nope\.key cannot be read \(ENOENT\)/);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });
});
