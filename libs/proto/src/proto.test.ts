import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commonV1, health, judgeV1, policyV1, rolloutV1, weightsV1 } from './index.js';

// Above Number.MAX_SAFE_INTEGER: survives only because of forceLong=bigint.
const bigVersion = 2n ** 53n + 7n;

test('RolloutGenerated round-trips with a uint64 version above 2^53 as bigint', () => {
  const message = rolloutV1.RolloutGenerated.fromPartial({
    request: {
      rolloutId: 'r-1',
      runId: 'run-a',
      step: 12n,
      groupId: 'g-3',
      groupIndex: 1,
      groupSize: 4,
      questionId: 'gsm8k/train/1',
      promptText: 'Q: 2+2?',
      labeled: true,
      goldAnswer: '4',
      sampling: { temperature: 0.5, topK: 20, seed: bigVersion, maxNewTokens: 64, stopStrings: ['\n\n'] },
      policyVersionWanted: bigVersion - 1n,
      requestedAt: new Date('2026-11-26T12:00:00.123Z'),
    },
    promptTokenIds: [1, 2, 3],
    completionTokenIds: [4, 151_643],
    logprobs: [-0.5, -1.25],
    completionText: ' 4',
    finishReason: commonV1.FinishReason.FINISH_REASON_STOP_TOKEN,
    policyVersion: bigVersion,
    timings: { decode: { seconds: 1n, nanos: 500_000_000 } },
  });

  const bytes = rolloutV1.RolloutGenerated.encode(message).finish();
  const decoded = rolloutV1.RolloutGenerated.decode(bytes);

  assert.equal(typeof decoded.policyVersion, 'bigint');
  assert.equal(decoded.policyVersion, bigVersion);
  assert.equal(decoded.request?.policyVersionWanted, bigVersion - 1n);
  assert.equal(decoded.request?.sampling?.seed, bigVersion);
  assert.equal(decoded.request?.goldAnswer, '4');
  assert.deepEqual(decoded.completionTokenIds, [4, 151_643]);
  assert.deepEqual(decoded.logprobs, [-0.5, -1.25]);
  assert.equal(decoded.finishReason, commonV1.FinishReason.FINISH_REASON_STOP_TOKEN);
  assert.equal(decoded.request?.requestedAt?.toISOString(), '2026-11-26T12:00:00.123Z');
  assert.deepEqual(decoded.timings?.decode, { seconds: 1n, nanos: 500_000_000 });
  assert.deepEqual(decoded, message);
});

test('unset optional fields stay unset (gold answer only when labeled)', () => {
  const bytes = rolloutV1.RolloutRequested.encode(
    rolloutV1.RolloutRequested.fromPartial({ rolloutId: 'r-2', labeled: false }),
  ).finish();
  const decoded = rolloutV1.RolloutRequested.decode(bytes);
  assert.equal(decoded.goldAnswer, undefined);
  assert.equal(decoded.sampling, undefined);
});

test('uint64 values above 2^64-1 are rejected rather than silently wrapped', () => {
  const message = weightsV1.WeightsPublished.fromPartial({ version: 2n ** 64n });
  assert.throws(() => weightsV1.WeightsPublished.encode(message), /too large/);
});

test('JudgeService definition has the grpc.io method paths and streaming flags', () => {
  const { judgeBatch, judgeStream } = judgeV1.JudgeServiceService;
  assert.equal(judgeBatch.path, '/verdict.judge.v1.JudgeService/JudgeBatch');
  assert.equal(judgeBatch.requestStream, false);
  assert.equal(judgeBatch.responseStream, false);
  assert.equal(judgeStream.path, '/verdict.judge.v1.JudgeService/JudgeStream');
  assert.equal(judgeStream.requestStream, true);
  assert.equal(judgeStream.responseStream, true);

  const request = judgeV1.JudgeBatchRequest.fromPartial({
    items: [{ id: 'a', question: 'q', solution: 's' }],
  });
  const wire = judgeBatch.requestSerialize(request);
  assert.ok(Buffer.isBuffer(wire));
  assert.deepEqual(judgeBatch.requestDeserialize(wire), request);
});

test('PolicyService.Generate is server-streaming and health keeps the upstream path', () => {
  assert.equal(policyV1.PolicyServiceService.generate.path, '/verdict.policy.v1.PolicyService/Generate');
  assert.equal(policyV1.PolicyServiceService.generate.requestStream, false);
  assert.equal(policyV1.PolicyServiceService.generate.responseStream, true);
  assert.equal(health.HealthService.check.path, '/grpc.health.v1.Health/Check');
  assert.equal(health.HealthService.watch.responseStream, true);
});
