import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVerdictError } from '@verdict/runtime';
import { parseRunConfig } from './run-config.js';
import { runConfigFromProto, runConfigToProto } from './run-config-proto.js';

const minimal = {
  runId: 'r1',
  student: { dir: '/models/student' },
  judge: { modelId: 'toy-judge' },
  data: { sources: [{ name: 'toy', limit: 50 }], labeledRatio: { labeled: 1, unlabeled: 3 } },
  reward: { lambdaVr: 0.5, muJudge: 0.5 },
};

test('defaults: reference = student, routing from the weights, GRPO, one minibatch per step', () => {
  const c = parseRunConfig(minimal);
  assert.deepEqual(c.reference, c.student);
  assert.equal(c.student.modelId, 'student');
  assert.equal(c.algorithm, 'grpo');
  assert.equal(c.minibatchSize, c.promptsPerStep * c.groupSize);
  assert.deepEqual(c.reward.labeled, { verifiable: true, judge: true, rerank: false });
  assert.deepEqual(c.reward.unlabeled, { verifiable: false, judge: true, rerank: false });
  assert.equal(c.data.sources[0]!.split, 'id');
});

test('every bad field is named with its limit in one INVALID_ARGUMENT', () => {
  const bad = {
    ...minimal,
    groupSize: 1,
    promptsPerStep: 3,
    minibatchSize: 4,
    learningRate: -1,
    stalenessBound: 1.5,
    reward: { lambdaVr: 0.7, muJudge: 0.7 },
    typo: 1,
  };
  assert.throws(
    () => parseRunConfig(bad),
    (e: unknown) => {
      assert.ok(isVerdictError(e));
      assert.equal(e.code, 'INVALID_ARGUMENT');
      for (const f of ['groupSize', 'minibatchSize', 'learningRate', 'stalenessBound', 'reward', 'typo']) {
        assert.match(e.message, new RegExp(`\\b${f}\\b`), f);
      }
      assert.match(e.message, /GRPO needs groupSize >= 2/);
      assert.match(e.message, /must be > 0 \(got -1\)/);
      assert.match(e.message, /sum to 1/);
      return true;
    },
  );
});

test('unlabeled questions need a judge term', () => {
  assert.throws(
    () => parseRunConfig({ ...minimal, reward: { lambdaVr: 1 } }),
    /reward\.unlabeled: unlabeled questions need the judge/,
  );
});

test('StartRun mirror: file config → proto → config is the identity on contract fields', () => {
  const c = parseRunConfig({
    ...minimal,
    groupSize: 4,
    promptsPerStep: 2,
    minibatchSize: 4,
    stalenessBound: 1,
    sampling: { temperature: 0.8, maxNewTokens: 12, stopStrings: ['\n\n'] },
    maxSteps: 3,
    seed: 7,
  });
  const back = runConfigFromProto(runConfigToProto(c));
  assert.deepEqual({ ...back, microBatchSize: c.microBatchSize, stepTimeoutMs: c.stepTimeoutMs }, c);
});

test('a proto config with an unspecified algorithm is rejected naming the field', () => {
  const wire = runConfigToProto(parseRunConfig(minimal));
  assert.throws(() => runConfigFromProto({ ...wire, algorithm: 0 }), /algorithm: must be one of grpo, ppo/);
});
