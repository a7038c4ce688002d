// TLS and mutual TLS on the learner's gRPC port (LEARNER_TLS_*) and on its evaluator client
// (LEARNER_EVALUATOR_TLS_*): real certificates made by openssl at test time, a real nats-server,
// an in-test evaluator with mutual TLS, and the plaintext health-only port (LEARNER_HEALTH_PORT).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { evaluatorV1 } from '@verdict/proto';
import {
  createGrpcServer,
  type GrpcServer,
  isVerdictError,
  serverStream,
  silentLogger,
} from '@verdict/runtime';
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
import { createLearnerApp, LEARNER_SERVICE_NAME, type LearnerApp, loadLearnerConfig } from '../src/index.js';
import { createEvaluatorClient } from '../src/run/evaluation.js';

const SERVER_NAME = 'grpc.verdict.test';
const skip = opensslMissingReason();

describe('learner TLS', { skip }, () => {
  let certs: TestCertificates;
  let nats: NatsServerHandle;
  let runsDir: string;
  const apps: LearnerApp[] = [];
  const base = () => ({
    NATS_URL: nats.url,
    LEARNER_HOST: '127.0.0.1',
    LEARNER_PORT: '0',
    LEARNER_RUNS_DIR: runsDir,
  });
  const serverEnv = () => ({
    LEARNER_TLS_CERT_FILE: certs.server.certFile,
    LEARNER_TLS_KEY_FILE: certs.server.keyFile,
    LEARNER_HEALTH_PORT: '0',
  });
  const start = async (env: Record<string, string>) => {
    const { logger, lines } = recordingLogger();
    const app = createLearnerApp(loadLearnerConfig({ ...base(), ...env }), { logger, telemetry: false });
    apps.push(app);
    return { lines, ...(await app.start()) };
  };
  const _check = (address: string, kind: TestChannelKind) =>
    healthCheckOver(address, certs, kind, { service: LEARNER_SERVICE_NAME, serverName: SERVER_NAME });

  before(async () => {
    certs = createTestCertificates({ serverNames: [SERVER_NAME] });
    runsDir = mkdtempSync(join(tmpdir(), 'verdict-learner-tls-'));
    nats = await startNatsServer();
  });
  after(async () => {
    for (const app of apps) await app.stop();
    await nats?.stop();
    rmSync(runsDir, { recursive: true, force: true });
    certs?.cleanup();
  });

  itServesTls({
    prefix: 'LEARNER',
    service: LEARNER_SERVICE_NAME,
    serverName: SERVER_NAME,
    certs: () => certs,
    tlsEnv: serverEnv,
    start,
  });

  describe('evaluator client (LEARNER_EVALUATOR_TLS_*)', () => {
    let evaluator: GrpcServer;
    const suites: string[] = [];
    before(async () => {
      // An evaluator that requires a client certificate from the test CA.
      evaluator = createGrpcServer({
        name: 'test-evaluator',
        host: '127.0.0.1',
        port: 0,
        logger: silentLogger,
        tls: { cert: certs.server.certPem, key: certs.server.keyPem, clientCa: certs.ca.certPem },
      });
      evaluator.addService(evaluatorV1.EvaluatorServiceService, {
        runSuite: serverStream<evaluatorV1.RunSuiteRequest, evaluatorV1.RunSuiteResponse>(
          async function* (req) {
            suites.push(req.suite);
            yield {
              report: evaluatorV1.SuiteReport.fromPartial({
                suite: req.suite,
                n: req.limit,
                greedyAccuracy: 0.5,
                model: { modelId: 'student', version: 3n },
              }),
            };
          },
        ),
      });
      await evaluator.start();
    });
    after(() => evaluator.stop());

    const clientTls = (env: Record<string, string>) => loadLearnerConfig({ ...base(), ...env }).evaluatorTls;

    it('with the CA and a client certificate the scores arrive; without the certificate or TLS the call fails', async () => {
      const tls = clientTls({
        LEARNER_EVALUATOR_TLS: 'true',
        LEARNER_EVALUATOR_TLS_CA_FILE: certs.ca.certFile,
        LEARNER_EVALUATOR_TLS_SERVER_NAME: SERVER_NAME,
        LEARNER_EVALUATOR_TLS_CERT_FILE: certs.client.certFile,
        LEARNER_EVALUATOR_TLS_KEY_FILE: certs.client.keyFile,
      });
      const evaluate = createEvaluatorClient(evaluator.address, 10_000, tls);
      try {
        assert.deepEqual(await evaluate(['toy-id'], 4), [
          { suite: 'toy-id', n: 4, greedyAccuracy: 0.5, policyVersion: 3 },
        ]);
      } finally {
        evaluate.close();
      }
      const refused = async (env: Record<string, string>) => {
        const client = createEvaluatorClient(evaluator.address, 5_000, clientTls(env));
        try {
          await assert.rejects(
            client(['toy-id'], 4),
            (e: unknown) => isVerdictError(e) && e.code === 'UNAVAILABLE',
          );
        } finally {
          client.close();
        }
      };
      await refused({
        LEARNER_EVALUATOR_TLS: 'true',
        LEARNER_EVALUATOR_TLS_CA_FILE: certs.ca.certFile,
        LEARNER_EVALUATOR_TLS_SERVER_NAME: SERVER_NAME,
      });
      await refused({});
      assert.deepEqual(suites, ['toy-id']);
    });

    it('client TLS config errors name the variables', () => {
      assert.throws(
        () =>
          clientTls({
            LEARNER_EVALUATOR_TLS: 'true',
            LEARNER_EVALUATOR_TLS_CA_FILE: join(certs.dir, 'nope.pem'),
          }),
        (e: unknown) =>
          isVerdictError(e) &&
          /LEARNER_EVALUATOR_TLS_CA_FILE .*nope\.pem cannot be read \(ENOENT\)/.test(e.message),
      );
      assert.throws(
        () => clientTls({ LEARNER_EVALUATOR_TLS_KEY_FILE: certs.client.keyFile }),
        (e: unknown) =>
          isVerdictError(e) &&
          /LEARNER_EVALUATOR_TLS_KEY_FILE set but LEARNER_EVALUATOR_TLS is not true/.test(e.message),
      );
    });
  });
});
