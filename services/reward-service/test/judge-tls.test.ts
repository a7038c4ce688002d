// The judge client over TLS: a real judge-server bin with mutual TLS (openssl certificates made
// at test time), a real nats-server, the reward-service app with REWARD_JUDGE_TLS_*.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { commonV1, judgeV1, rolloutV1 } from '@verdict/proto';
import {
  connectNats,
  createGrpcClient,
  isVerdictError,
  type Messaging,
  type RuntimeLogger,
} from '@verdict/runtime';
import {
  createTestCertificates,
  type NatsServerHandle,
  opensslMissingReason,
  startNatsServer,
  type TestCertificates,
} from '@verdict/runtime/testing';
import type { RewardServiceApp } from '../src/app.js';
import { loadRewardServiceConfig } from '../src/config.js';
import {
  collectScored,
  createTestRewardApp,
  generated,
  JUDGE_BIN,
  type ScoredCollector,
  settledRewardConsumer,
  startServiceProcess,
  waitFor,
} from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

const ST = commonV1.RewardStatus;
const SERVER_NAME = 'judge.verdict.test';
const skip = opensslMissingReason();

function configErrorOf(env: Record<string, string>): string {
  try {
    loadRewardServiceConfig({ NATS_URL: 'nats://127.0.0.1:4222', JUDGE_ADDRESS: '127.0.0.1:1', ...env });
  } catch (error) {
    assert.ok(isVerdictError(error), String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    return error.message;
  }
  assert.fail('expected a config error');
}

describe('reward-service judge client over TLS', { skip }, () => {
  const fixture = writeToyJudgeModel();
  let certs: TestCertificates;
  let notPemFile: string;
  let nats: NatsServerHandle;
  let judge: { address: string; child: ChildProcess };
  let m: Messaging;
  let app: RewardServiceApp | undefined;
  let collector: ScoredCollector | undefined;
  const logLines: string[] = [];
  const logger: RuntimeLogger = {
    debug() {},
    info: (message) => void logLines.push(message),
    warn: (message) => void logLines.push(message),
    error: (message) => void logLines.push(message),
  };

  const startApp = async (env: Record<string, string>) => {
    app = createTestRewardApp(
      {
        NATS_URL: nats.url,
        JUDGE_ADDRESS: judge.address,
        REWARD_LAMBDA_VR: '0',
        REWARD_MU_JUDGE: '1',
        ...env,
      },
      { logger },
    );
    await app.start();
  };
  const stopApp = async () => {
    const a = app;
    app = undefined;
    await a?.stop();
  };
  const scoreOne = async (id: string): Promise<rolloutV1.RolloutScored> => {
    const g = generated(id, { labeled: false, completion: ' 2 and 2 make 4. #### 4' });
    await m.publish('verdict.rollout.generated', rolloutV1.RolloutGenerated.encode(g).finish(), {
      msgId: `${id}:generated`,
    });
    await waitFor(() => collector!.scored.has(id));
    return collector!.scored.get(id)!.at(-1)!;
  };
  const tlsEnv = () => ({
    REWARD_JUDGE_TLS: 'true',
    REWARD_JUDGE_TLS_CA_FILE: certs.ca.certFile,
    // The judge is dialled by IP; its certificate names SERVER_NAME only.
    REWARD_JUDGE_TLS_SERVER_NAME: SERVER_NAME,
  });

  before(async () => {
    certs = createTestCertificates({ serverNames: [SERVER_NAME] });
    // A readable file that is no certificate, for the config error below.
    notPemFile = join(certs.dir, 'not-a-pem.ext');
    writeFileSync(notPemFile, 'extendedKeyUsage=clientAuth\n');
    [nats, judge] = await Promise.all([
      startNatsServer(),
      startServiceProcess(JUDGE_BIN, {
        JUDGE_MODEL_DIR: fixture.dir,
        JUDGE_HOST: '127.0.0.1',
        JUDGE_PORT: '0',
        JUDGE_DEFAULT_TEMPLATE: 'plain',
        JUDGE_TLS_CERT_FILE: certs.server.certFile,
        JUDGE_TLS_KEY_FILE: certs.server.keyFile,
        JUDGE_TLS_CLIENT_CA_FILE: certs.ca.certFile,
        LOG_LEVEL: 'warn',
      }),
    ]);
    m = await connectNats({ servers: nats.url, name: 'test' });
    collector = await collectScored(m);
  });

  after(async () => {
    await app?.stop();
    await collector?.stop();
    await m?.close();
    judge?.child.kill('SIGTERM');
    await nats?.stop();
    fixture.cleanup();
    certs?.cleanup();
  });

  it('mutual TLS with the CA and a client certificate: the rollout is scored by the judge', async () => {
    await startApp({
      ...tlsEnv(),
      REWARD_JUDGE_TLS_CERT_FILE: certs.client.certFile,
      REWARD_JUDGE_TLS_KEY_FILE: certs.client.keyFile,
    });
    assert.ok(
      logLines.includes(`judge client: tls (client certificate) to ${judge.address}`),
      logLines.join('\n'),
    );
    const s = await scoreOne('mtls-1');

    // The same item judged directly over mutual TLS.
    const direct = createGrpcClient(judgeV1.JudgeServiceClient, judge.address, {
      credentials: credentials.createSsl(
        readFileSync(certs.ca.certFile),
        readFileSync(certs.client.keyFile),
        readFileSync(certs.client.certFile),
      ),
      channelOptions: { 'grpc.ssl_target_name_override': SERVER_NAME },
    });
    const reply = await direct.unary('judgeBatch', {
      items: [
        {
          id: 'x',
          question: s.generated!.request!.question,
          solution: s.generated!.completionText,
          templateName: '',
        },
      ],
    });
    direct.close();
    const judgeScore = reply.results[0]!.score;

    assert.equal(s.reward?.status, ST.REWARD_STATUS_OK, s.reward?.message);
    assert.ok(Math.abs((s.reward?.components?.judge?.value ?? -1) - judgeScore) < 1e-9);
    assert.ok(Math.abs((s.reward?.total ?? -1) - judgeScore) < 1e-9);
    assert.equal(s.reward?.provenance?.templateName, 'plain');
    await stopApp();
  });

  it('without the client certificate (or without TLS) the judge term is ERROR, published and acked', async () => {
    const failFast = { REWARD_JUDGE_TIMEOUT: '5s', REWARD_JUDGE_MAX_ATTEMPTS: '2' };
    await startApp({ ...tlsEnv(), ...failFast });
    assert.ok(logLines.includes(`judge client: tls to ${judge.address}`), logLines.join('\n'));
    const noCert = (await scoreOne('nocert-1')).reward!;
    assert.equal(noCert.status, ST.REWARD_STATUS_ERROR, noCert.message);
    assert.match(noCert.message, /judge call failed \(UNAVAILABLE\)/);
    assert.equal(noCert.total, 0);
    await stopApp();

    await startApp(failFast);
    const plain = (await scoreOne('plain-1')).reward!;
    assert.equal(plain.status, ST.REWARD_STATUS_ERROR, plain.message);
    assert.match(plain.message, /judge call failed \(UNAVAILABLE\)/);
    const info = await settledRewardConsumer(m);
    assert.equal(info.num_ack_pending, 0, 'every generated message was acked');
    assert.equal(info.num_pending, 0);
    await stopApp();
  });

  it('TLS config errors name the variables', () => {
    const half = configErrorOf({
      REWARD_JUDGE_TLS: 'true',
      REWARD_JUDGE_TLS_CERT_FILE: certs.client.certFile,
    });
    assert.match(
      half,
      /REWARD_JUDGE_TLS_CERT_FILE and REWARD_JUDGE_TLS_KEY_FILE go together.*set both or neither/,
    );
    assert.match(
      configErrorOf({ REWARD_JUDGE_TLS_CA_FILE: certs.ca.certFile }),
      /REWARD_JUDGE_TLS_CA_FILE set but REWARD_JUDGE_TLS is not true/,
    );
    assert.match(
      configErrorOf({ REWARD_JUDGE_TLS: 'true', REWARD_JUDGE_TLS_CA_FILE: join(certs.dir, 'missing.pem') }),
      /REWARD_JUDGE_TLS_CA_FILE .*missing\.pem cannot be read \(ENOENT\)/,
    );
    assert.match(
      configErrorOf({ REWARD_JUDGE_TLS: 'true', REWARD_JUDGE_TLS_CA_FILE: notPemFile }),
      /REWARD_JUDGE_TLS_CA_FILE: not a PEM CA certificate/,
    );
    assert.match(
      configErrorOf({
        REWARD_JUDGE_TLS: 'true',
        REWARD_JUDGE_TLS_CERT_FILE: certs.client.certFile,
        REWARD_JUDGE_TLS_KEY_FILE: certs.server.keyFile,
      }),
      /REWARD_JUDGE_TLS_CERT_FILE \/ REWARD_JUDGE_TLS_KEY_FILE: not a PEM certificate and matching private key/,
    );
    const ok = loadRewardServiceConfig({
      NATS_URL: 'nats://127.0.0.1:4222',
      JUDGE_ADDRESS: '127.0.0.1:1',
      ...tlsEnv(),
    });
    assert.deepEqual(ok.judgeTls, {
      enabled: true,
      caFile: certs.ca.certFile,
      serverName: SERVER_NAME,
      certFile: undefined,
      keyFile: undefined,
    });
  });
});
