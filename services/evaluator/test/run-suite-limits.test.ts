// Issue 17's RunSuite findings through the real gRPC server (port 0) and in-test policy-servers:
// a request the policy-server refuses as a whole fails the run (never OK with accuracy 0),
// top_k is checked up front, policy_target is limited to the configured targets, and no status
// echoes client text of any length.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { evaluatorV1 } from '@verdict/proto';
import {
  createGrpcClient,
  type GrpcClient,
  isVerdictError,
  silentLogger,
  VerdictError,
} from '@verdict/runtime';
import { createEvaluatorApp, type EvaluatorApp, loadEvaluatorConfig } from '../src/index.js';
import {
  type AnswerFn,
  type FakePolicyServer,
  rejectIf,
  startFakePolicyServer,
} from './fake-policy-server.js';

type EvalClient = GrpcClient<evaluatorV1.EvaluatorServiceClient>;

/** Like the real policy-server: a max_new_tokens over its limit refuses the whole request. */
const POLICY_MAX_NEW_TOKENS = 4096;
const answer: AnswerFn = (prompts, sampling, samples) => {
  if (sampling.maxNewTokens > POLICY_MAX_NEW_TOKENS)
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `sampling.max_new_tokens: must be <= ${POLICY_MAX_NEW_TOKENS}`,
      {
        field: 'sampling.max_new_tokens',
      },
    );
  return prompts.map(() => Array.from({ length: samples }, () => 'It is 4.'));
};

const sampling = (o: Partial<evaluatorV1.RunSuiteRequest['sampling'] & object> = {}) => ({
  temperature: 0.7,
  topP: 1,
  topK: 0,
  maxNewTokens: 16,
  stopTokenIds: [],
  stopStrings: [],
  ...o,
});

async function run(client: EvalClient, req: Partial<evaluatorV1.RunSuiteRequest>) {
  const events: evaluatorV1.RunSuiteResponse[] = [];
  for await (const e of client.serverStream('runSuite', {
    suite: 'toy-ood',
    limit: 4n,
    samples: 0,
    policyTarget: '',
    ...req,
  }))
    events.push(e);
  return events;
}

async function rejects(p: Promise<unknown>, code: string, field: RegExp | undefined, message: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVerdictError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (field) assert.match(e.field ?? '', field);
    assert.match(e.message, message);
    assert.ok(e.message.length <= 2048, `status message is ${e.message.length} chars`);
    return true;
  });
}

describe('RunSuite input limits', () => {
  let policy: FakePolicyServer;
  let other: FakePolicyServer;
  let refusing: FakePolicyServer;
  let stranger: FakePolicyServer;
  let app: EvaluatorApp;
  let client: EvalClient;
  let reportDir: string;

  before(async () => {
    [policy, other, refusing, stranger] = await Promise.all([
      startFakePolicyServer(answer),
      startFakePolicyServer(answer, { modelId: 'other' }),
      startFakePolicyServer(rejectIf(() => true, answer)),
      startFakePolicyServer(answer),
    ]);
    reportDir = mkdtempSync(join(tmpdir(), 'verdict-evaluator-limits-'));
    app = createEvaluatorApp(
      loadEvaluatorConfig({
        EVALUATOR_HOST: '127.0.0.1',
        EVALUATOR_PORT: '0',
        EVALUATOR_POLICY_TARGET: policy.address,
        EVALUATOR_POLICY_TARGETS: `${other.address},${refusing.address}`,
        EVALUATOR_REPORT_DIR: reportDir,
        EVALUATOR_BATCH_SIZE: '2',
      }),
      { logger: silentLogger, telemetry: false },
    );
    const { address } = await app.start();
    client = createGrpcClient(evaluatorV1.EvaluatorServiceClient, address, { defaultDeadlineMs: 60_000 });
  });

  after(async () => {
    client.close();
    await app.stop();
    await Promise.all([policy, other, refusing, stranger].map((p) => p.stop()));
    rmSync(reportDir, { recursive: true, force: true });
  });

  it('max_new_tokens over the policy-server limit fails with its INVALID_ARGUMENT, not OK with accuracy 0', async () => {
    const before = policy.calls.length;
    await rejects(
      run(client, { samples: 2, sampling: sampling({ maxNewTokens: 32_768 }) }),
      'INVALID_ARGUMENT',
      /^sampling\.max_new_tokens$/,
      /must be <= 4096/,
    );
    // Refused once, not retried prompt by prompt.
    assert.equal(policy.calls.length - before, 1);
  });

  it('top_k of 2^32−1 is refused up front; top_k over the model vocabulary before any prompt', async () => {
    const before = policy.calls.length;
    await rejects(
      run(client, { samples: 2, sampling: sampling({ topK: 2 ** 32 - 1 }) }),
      'INVALID_ARGUMENT',
      /^sampling\.top_k$/,
      /must be <= 1000000/,
    );
    await rejects(
      run(client, { samples: 2, sampling: sampling({ topK: 513 }) }),
      'INVALID_ARGUMENT',
      /^sampling\.top_k$/,
      /vocabulary size 512/,
    );
    assert.equal(policy.calls.length, before, 'no Generate call was made');
  });

  it('a run whose every prompt is refused is FAILED_PRECONDITION, never an OK report', async () => {
    await rejects(
      run(client, { policyTarget: refusing.address }),
      'FAILED_PRECONDITION',
      undefined,
      /rejected every prompt \(4 of 4\)/,
    );
  });

  it('policy_target may name only the configured targets', async () => {
    const events = await run(client, { policyTarget: other.address });
    assert.equal(events.at(-1)?.report?.model?.modelId, 'other');
    await rejects(
      run(client, { policyTarget: stranger.address }),
      'INVALID_ARGUMENT',
      /^policy_target$/,
      /is not an allowed target/,
    );
    assert.equal(stranger.calls.length, 0, 'the evaluator never dialled it');
    await rejects(
      run(client, { policyTarget: 'x'.repeat(1 << 20) }),
      'INVALID_ARGUMENT',
      /^policy_target$/,
      /x{10,}… \(1048578 bytes\) is not an allowed target/,
    );
  });

  it('an unknown suite of 1 MB is quoted truncated', async () => {
    await rejects(
      run(client, { suite: 's'.repeat(1 << 20) }),
      'INVALID_ARGUMENT',
      /^suite$/,
      /unknown suite "s+… \(1048578 bytes\)/,
    );
  });
});
