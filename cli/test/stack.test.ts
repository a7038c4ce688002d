// The one stack launcher (`@verdict/cli/stack`): real services on port 0 over the in-process
// transport and a real nats-server, toy models written by @verdict/recipes.
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { learnerV1 } from '@verdict/proto';
import { writeRandomToyModel } from '@verdict/recipes';
import { createGrpcClient, findNatsServerBinary, isVerdictError, silentLogger } from '@verdict/runtime';
import { type StackOptions, stackConfigs, startStack } from '../src/stack/index.js';
import { SMALL_STUDENT_BYTES } from '../src/stack/service-env.js';

function openAndClose(file: string): string {
  closeSync(openSync(file, 'w'));
  return file;
}

let work: string;
let studentDir: string;
let judgeDir: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'verdict-stack-'));
  studentDir = writeRandomToyModel(join(work, 'student'), {
    hiddenSize: 16,
    layers: 1,
    maxPositions: 256,
    seed: 3,
    scale: 0.5,
  });
  judgeDir = writeRandomToyModel(join(work, 'judge'), {
    hiddenSize: 16,
    layers: 1,
    maxPositions: 256,
    seed: 11,
    scale: 1.5,
  });
});
after(() => rmSync(work, { recursive: true, force: true }));

function options(extra: Partial<StackOptions> = {}): StackOptions {
  return {
    messaging: { start: 'memory' },
    studentDir,
    judgeDir,
    runsDir: join(work, 'runs'),
    reportDir: join(work, 'reports'),
    logger: silentLogger,
    ...extra,
  };
}

describe('stackConfigs: typed options in, every service config validated', () => {
  it('maps the options onto each service config', () => {
    const configs = stackConfigs({
      ...options({
        policyReplicas: 2,
        reward: { lambdaVr: 0.25, muJudge: 0.5, rhoRerank: 0.25 },
        policy: { maxBatchSize: 8, intraOpThreads: 2, staleRetryDelayMs: 200, instanceIdPrefix: 'p' },
        judge: { maxBatchSize: 1, intraOpThreads: 1 },
        learner: { evalLimit: 8, intraOpThreads: 2 },
        evaluator: { maxNewTokens: 12 },
      }),
      messaging: { url: 'mem://configs' },
    });
    assert.equal(configs.judge.maxBatchSize, 1);
    assert.equal(configs.judge.intraOpThreads, 1);
    assert.deepEqual(
      [configs.reward?.lambdaVr, configs.reward?.muJudge, configs.reward?.rhoRerank],
      [0.25, 0.5, 0.25],
    );
    assert.deepEqual(
      configs.policies.map((p) => p.instanceId),
      ['p0', 'p1'],
    );
    assert.equal(configs.policies[0]!.batching.maxBatchSize, 8);
    assert.equal(configs.policies[0]!.model.intraOpThreads, 2);
    assert.equal(configs.evaluator?.maxNewTokens, 12);
    assert.equal(configs.learner?.evalLimit, 8);
    assert.equal(configs.learner?.natsUrl, 'mem://configs');
  });

  it('a small student decodes on one single-threaded session replica per core; a big one on threads', () => {
    const small = stackConfigs({ ...options({ threads: 3 }), messaging: { url: 'mem://configs' } });
    assert.deepEqual(
      [small.policies[0]!.model.sessionReplicas, small.policies[0]!.model.intraOpThreads],
      [3, 1],
    );
    const bigDir = join(work, 'big-student');
    mkdirSync(bigDir, { recursive: true });
    // A sparse file: its size, not its disk use, decides (the weights' memory per replica).
    truncateSync(openAndClose(join(bigDir, 'model.safetensors')), SMALL_STUDENT_BYTES + 1);
    const big = stackConfigs({
      ...options({ threads: 3 }),
      studentDir: bigDir,
      messaging: { url: 'mem://configs' },
    });
    assert.deepEqual([big.policies[0]!.model.sessionReplicas, big.policies[0]!.model.intraOpThreads], [1, 3]);
    const explicit = stackConfigs({
      ...options({ threads: 3, policy: { intraOpThreads: 2 } }),
      messaging: { url: 'mem://configs' },
    });
    assert.deepEqual(
      [explicit.policies[0]!.model.sessionReplicas, explicit.policies[0]!.model.intraOpThreads],
      [1, 2],
    );
  });

  it('a skipped service has no config; the learner gets no evaluator without one', () => {
    const configs = stackConfigs({
      ...options({ skip: ['evaluator', 'reward-service'] }),
      messaging: { url: 'mem://configs' },
    });
    assert.equal(configs.reward, undefined);
    assert.equal(configs.evaluator, undefined);
    assert.equal(configs.learner?.evaluatorAddress, undefined);
  });

  it('bad options fail before anything starts, naming the field and the rule', async () => {
    const lines: string[] = [];
    await assert.rejects(
      startStack(options({ reward: { lambdaVr: 0.5, muJudge: 0.7 }, progress: (l) => lines.push(l) })),
      (e: unknown) =>
        isVerdictError(e) && e.code === 'INVALID_ARGUMENT' && /must be 1 \(got 1\.2\)/.test(e.message),
    );
    await assert.rejects(
      startStack(options({ policyReplicas: 0 })),
      (e: unknown) => isVerdictError(e) && e.field === 'policyReplicas' && /\[1, 64\]/.test(e.message),
    );
    assert.deepEqual(lines, [], 'nothing was started, so nothing was stopped');
  });
});

describe('startStack', () => {
  it('starts the five services in this process, reports their addresses, stops once in reverse', async () => {
    const lines: string[] = [];
    const stack = await startStack(options({ policyReplicas: 2, progress: (l) => lines.push(l) }));
    assert.equal(stack.messaging.transport, 'memory');
    assert.ok(stack.messaging.owned);
    assert.deepEqual(Object.keys(stack.addresses).sort(), [
      'evaluator',
      'judge-server',
      'learner',
      'nats',
      'policy-server-0',
      'policy-server-1',
      'reward-service',
    ]);
    assert.equal(stack.policies.length, 2);
    assert.equal(stack.configs.learner?.evaluatorAddress, stack.addresses['evaluator']);
    assert.equal(stack.configs.evaluator?.policyTarget, stack.addresses['policy-server-0']);
    assert.equal(stack.configs.reward?.judgeAddress, stack.addresses['judge-server']);
    // The learner answers over gRPC on its free port.
    const learner = createGrpcClient(learnerV1.LearnerServiceClient, stack.addresses['learner']!, {
      defaultDeadlineMs: 10_000,
    });
    try {
      await assert.rejects(learner.unary('getRunStatus', { runId: 'none' }), (e: unknown) => {
        return isVerdictError(e) && e.code === 'NOT_FOUND';
      });
    } finally {
      learner.close();
    }
    await stack.restartRewardService({ lambdaVr: 1, muJudge: 0 });
    assert.equal(stack.configs.reward?.lambdaVr, 1);
    await Promise.all([stack.stop(), stack.stop()]);
    await stack.stop();
    assert.deepEqual(
      lines.filter((l) => l.startsWith('stopping ')),
      [
        'stopping learner',
        'stopping evaluator',
        'stopping policy-server-1',
        'stopping policy-server-0',
        'stopping reward-service',
        'stopping judge-server',
        'stopping in-process broker',
      ],
    );
    assert.equal(stack.policies[0]!.health().ready, false);
  });

  it('a failed start stops what already started, then rethrows the model error', async () => {
    const lines: string[] = [];
    await assert.rejects(
      startStack(
        options({
          studentDir: join(work, 'no-such-student'),
          skip: ['evaluator', 'learner'],
          progress: (l) => lines.push(l),
        }),
      ),
      /no-such-student/,
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith('stopping ')),
      [
        'stopping policy-server-0',
        'stopping reward-service',
        'stopping judge-server',
        'stopping in-process broker',
      ],
    );
  });

  const noNats = (() => {
    try {
      findNatsServerBinary();
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  })();
  it('starts its own nats-server on a store folder and stops it last', { skip: noNats }, async () => {
    const storeDir = join(work, 'nats-store');
    const stack = await startStack(
      options({ messaging: { start: 'nats', storeDir }, skip: ['evaluator', 'learner', 'reward-service'] }),
    );
    assert.equal(stack.messaging.transport, 'nats');
    assert.match(stack.addresses['nats']!, /^nats:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(existsSync(join(storeDir, 'jetstream')), 'JetStream stores under the given folder');
    assert.equal(stack.policies[0]!.health().natsConnected, true);
    await stack.stop();
    assert.ok(existsSync(storeDir), "a caller's store folder is kept");
  });

  it('nats-or-memory falls back to the in-process broker where nats-server is missing', async () => {
    const lines: string[] = [];
    const stack = await startStack(
      options({
        messaging: { start: 'nats-or-memory', natsServerBin: join(work, 'no-nats-server') },
        skip: ['evaluator', 'learner', 'reward-service'],
        progress: (l) => lines.push(l),
      }),
    );
    try {
      assert.equal(stack.messaging.transport, 'memory');
      assert.match(lines[0]!, /nats-server not found.*using the in-process messaging transport/);
    } finally {
      await stack.stop();
    }
  });
});
