// TLS and mutual TLS on the evaluator's gRPC port (EVALUATOR_TLS_*) and on its policy-server
// client (EVALUATOR_POLICY_TLS_*): real certificates made by openssl at test time, an in-test
// policy-server with mutual TLS, and the plaintext health-only port (EVALUATOR_HEALTH_PORT).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { evaluatorV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError } from '@verdict/runtime';
import {
  createTestCertificates,
  healthCheckOver,
  linesWithKeyMaterial,
  opensslMissingReason,
  recordingLogger,
  type TestCertificates,
  type TestChannelKind,
  testChannel,
} from '@verdict/runtime/testing';
import {
  createEvaluatorApp,
  EVALUATOR_SERVICE_NAME,
  type EvaluatorApp,
  loadEvaluatorConfig,
} from '../src/index.js';
import { type FakePolicyServer, startFakePolicyServer } from './fake-policy-server.js';

const SERVER_NAME = 'grpc.verdict.test';
const skip = opensslMissingReason();

describe('evaluator TLS', { skip }, () => {
  let certs: TestCertificates;
  let policy: FakePolicyServer;
  let reportDir: string;
  const apps: EvaluatorApp[] = [];
  const serverEnv = () => ({
    EVALUATOR_TLS_CERT_FILE: certs.server.certFile,
    EVALUATOR_TLS_KEY_FILE: certs.server.keyFile,
    EVALUATOR_HEALTH_PORT: '0',
  });
  const policyTlsEnv = () => ({
    EVALUATOR_POLICY_TLS: 'true',
    EVALUATOR_POLICY_TLS_CA_FILE: certs.ca.certFile,
    EVALUATOR_POLICY_TLS_SERVER_NAME: SERVER_NAME,
    EVALUATOR_POLICY_TLS_CERT_FILE: certs.client.certFile,
    EVALUATOR_POLICY_TLS_KEY_FILE: certs.client.keyFile,
  });
  const start = async (env: Record<string, string>) => {
    const { logger, lines } = recordingLogger();
    const config = loadEvaluatorConfig({
      EVALUATOR_HOST: '127.0.0.1',
      EVALUATOR_PORT: '0',
      EVALUATOR_POLICY_TARGET: policy.address,
      EVALUATOR_REPORT_DIR: reportDir,
      ...env,
    });
    const app = createEvaluatorApp(config, { logger, telemetry: false });
    apps.push(app);
    return { lines, ...(await app.start()) };
  };
  const check = (address: string, kind: TestChannelKind) =>
    healthCheckOver(address, certs, kind, { service: EVALUATOR_SERVICE_NAME, serverName: SERVER_NAME });
  /** RunSuite over a `kind` channel: the report's n, or the error code. */
  const runSuite = async (address: string, kind: TestChannelKind): Promise<number | string> => {
    const client = createGrpcClient(evaluatorV1.EvaluatorServiceClient, address, {
      ...testChannel(certs, kind, SERVER_NAME),
      defaultDeadlineMs: 30_000,
    });
    try {
      let n: number | undefined;
      for await (const e of client.serverStream('runSuite', {
        suite: 'toy-id',
        limit: 4n,
        samples: 0,
        policyTarget: '',
      })) {
        if (e.report !== undefined) n = Number(e.report.n);
      }
      return n ?? 'no report';
    } catch (error) {
      if (isVerdictError(error)) return error.code;
      throw error;
    } finally {
      client.close();
    }
  };

  before(async () => {
    certs = createTestCertificates({ serverNames: [SERVER_NAME] });
    reportDir = mkdtempSync(join(tmpdir(), 'verdict-evaluator-tls-'));
    // A policy-server that requires a client certificate from the test CA.
    policy = await startFakePolicyServer(
      (prompts, _sampling, samples) => prompts.map(() => Array.from({ length: samples }, () => '#### 0')),
      { tls: { cert: certs.server.certPem, key: certs.server.keyPem, clientCa: certs.ca.certPem } },
    );
  });
  after(async () => {
    for (const app of apps) await app.stop();
    await policy?.stop();
    rmSync(reportDir, { recursive: true, force: true });
    certs?.cleanup();
  });

  it('mutual TLS both ways: RunSuite with a client certificate reaches the mTLS policy-server; a client without one is refused', async () => {
    const { address, healthAddress, lines } = await start({
      ...serverEnv(),
      EVALUATOR_TLS_CLIENT_CA_FILE: certs.ca.certFile,
      ...policyTlsEnv(),
    });
    assert.ok(
      lines.some((l) => l.startsWith('grpc: tls (mutual)')),
      lines.join('\n'),
    );
    assert.equal(await runSuite(address, 'mtls'), 4);
    assert.ok(policy.calls.length > 0, 'the policy-server was called over mutual TLS');
    assert.equal(await runSuite(address, 'tls'), 'UNAVAILABLE');
    assert.equal(await check(address, 'plaintext'), 'UNAVAILABLE');
    assert.ok(healthAddress !== undefined && healthAddress !== address);
    assert.equal(await check(healthAddress, 'plaintext'), 'SERVING');
    assert.deepEqual(linesWithKeyMaterial(lines, certs), []);
  });

  it('server auth: a TLS client with the CA is served, plaintext and an untrusted CA refused', async () => {
    const { address, healthAddress } = await start({ ...serverEnv(), ...policyTlsEnv() });
    assert.equal(await check(address, 'tls'), 'SERVING');
    assert.equal(await check(address, 'plaintext'), 'UNAVAILABLE');
    assert.equal(await check(address, 'tls-no-ca'), 'UNAVAILABLE');
    assert.equal(await check(healthAddress!, 'plaintext'), 'SERVING');
  });

  it('a plaintext policy client cannot reach the TLS policy-server: RunSuite fails, never a report', async () => {
    const { address } = await start({ EVALUATOR_GENERATE_TIMEOUT: '3s' });
    const outcome = await runSuite(address, 'plaintext');
    assert.equal(typeof outcome, 'string', `expected an error code, got ${outcome}`);
    assert.notEqual(outcome, 'no report');
  });

  it('policy TLS config errors name the variables', () => {
    const fail = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadEvaluatorConfig({ EVALUATOR_REPORT_DIR: reportDir, ...env }),
        (e: unknown) => isVerdictError(e) && e.code === 'INVALID_ARGUMENT' && message.test(e.message),
      );
    fail(
      { EVALUATOR_POLICY_TLS_CA_FILE: certs.ca.certFile },
      /EVALUATOR_POLICY_TLS_CA_FILE set but EVALUATOR_POLICY_TLS is not true/,
    );
    fail(
      { EVALUATOR_POLICY_TLS: 'true', EVALUATOR_POLICY_TLS_CERT_FILE: certs.client.certFile },
      /EVALUATOR_POLICY_TLS_CERT_FILE and EVALUATOR_POLICY_TLS_KEY_FILE go together/,
    );
    fail(
      { EVALUATOR_TLS_CERT_FILE: certs.server.certFile, EVALUATOR_TLS_KEY_FILE: join(certs.dir, 'nope.key') },
      /EVALUATOR_TLS_KEY_FILE .*nope\.key cannot be read \(ENOENT\)/,
    );
  });
});
