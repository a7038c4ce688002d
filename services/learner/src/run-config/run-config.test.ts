import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { learnerV1, rewardV1 } from '@verdict/proto';
import { isVerdictError } from '@verdict/runtime';
import { loadLearnerConfig } from '../config.js';
import { loadRunConfigFile, parseRunConfig, runConfigToJson, validateRunConfig } from './run-config.js';

const minimal = {
  runId: 'r1',
  student: { checkpointUri: '/models/student' },
  judge: { modelId: 'toy-judge' },
  dataMix: [{ name: 'toy', limit: 50 }],
  labeledRatio: { labeled: 1, unlabeled: 3 },
  reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
  algorithm: 'ALGORITHM_GRPO',
};

function invalid(fn: () => unknown, check: (message: string) => void): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isVerdictError(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    check(e.message);
    return true;
  });
}

test('defaults: reference = student, routing from the weights, one minibatch per step, today’s RL options', () => {
  const c = parseRunConfig(minimal);
  assert.deepEqual(c.reference, c.student);
  assert.equal(c.student.modelId, 'student');
  assert.equal(c.algorithm, learnerV1.Algorithm.ALGORITHM_GRPO);
  assert.equal(c.minibatchSize, c.promptsPerStep * c.groupSize);
  assert.equal(c.microBatchSize, c.minibatchSize);
  assert.deepEqual(c.reward.labeled, { verifiable: true, judge: true, rerank: false });
  assert.deepEqual(c.reward.unlabeled, { verifiable: false, judge: true, rerank: false });
  assert.equal(c.reward.weights.rhoRerank, 0);
  assert.deepEqual(c.dataMix[0], { name: 'toy', split: 'id', labeled: true, weight: 1, limit: 50 });
  assert.equal(c.stalenessPolicy, learnerV1.StalenessPolicy.STALENESS_POLICY_DROP);
  assert.equal(c.rolloutSampling.temperature, 1);
  assert.equal(c.dataSeed, c.seed);
  // The RL options default to the learner's behaviour before they became fields.
  assert.equal(c.lrDecay, learnerV1.LrDecay.LR_DECAY_CONSTANT);
  assert.equal(c.warmupSteps, 0);
  assert.equal(c.klEstimator, learnerV1.KlEstimator.KL_ESTIMATOR_K3);
  assert.equal(c.valueClipRange, 0.2);
  assert.equal(c.isCap, 2);
  assert.equal(c.lossAggregation, learnerV1.LossAggregation.LOSS_AGGREGATION_TOKEN_MEAN);
  assert.deepEqual([c.adamBeta1, c.adamBeta2, c.weightDecay], [0.9, 0.999, 0]);
  assert.deepEqual([c.dynamicSampling, c.maxSamplingRounds, c.generateAhead], [false, 3, false]);
  assert.deepEqual([c.gamma, c.gaeLambda, c.valueCoef, c.maxGradNorm], [1, 0.95, 0.5, 1]);
});

test('behaviourLogprobs: RECOMPUTE by default (also for UNSPECIFIED on the wire); ROLLOUT is GRPO only', () => {
  const { BehaviourLogprobs } = learnerV1;
  assert.equal(parseRunConfig(minimal).behaviourLogprobs, BehaviourLogprobs.BEHAVIOUR_LOGPROBS_RECOMPUTE);
  const wire: learnerV1.RunConfig = { ...parseRunConfig(minimal), behaviourLogprobs: 0 };
  assert.equal(validateRunConfig(wire).behaviourLogprobs, BehaviourLogprobs.BEHAVIOUR_LOGPROBS_RECOMPUTE);
  const rollout = parseRunConfig({
    ...minimal,
    rolloutSampling: { temperature: 1, maxNewTokens: 12 },
    behaviourLogprobs: 'BEHAVIOUR_LOGPROBS_ROLLOUT',
  });
  assert.equal(rollout.behaviourLogprobs, BehaviourLogprobs.BEHAVIOUR_LOGPROBS_ROLLOUT);
  assert.deepEqual(parseRunConfig(runConfigToJson(rollout)), rollout, 'the JSON mapping round-trips it');
  invalid(
    () =>
      parseRunConfig({
        ...minimal,
        algorithm: 'ALGORITHM_PPO',
        behaviourLogprobs: 'BEHAVIOUR_LOGPROBS_ROLLOUT',
      }),
    (m) =>
      assert.match(
        m,
        /behaviourLogprobs: BEHAVIOUR_LOGPROBS_ROLLOUT is GRPO only \(PPO needs the critic's old values/,
      ),
  );
  // PPO with RECOMPUTE (spelled out) stays valid.
  assert.equal(
    parseRunConfig({
      ...minimal,
      algorithm: 'ALGORITHM_PPO',
      behaviourLogprobs: 'BEHAVIOUR_LOGPROBS_RECOMPUTE',
    }).behaviourLogprobs,
    BehaviourLogprobs.BEHAVIOUR_LOGPROBS_RECOMPUTE,
  );
  invalid(
    () => validateRunConfig({ ...wire, behaviourLogprobs: 5 as learnerV1.BehaviourLogprobs }),
    (m) =>
      assert.match(
        m,
        /behaviourLogprobs: must be one of BEHAVIOUR_LOGPROBS_RECOMPUTE, BEHAVIOUR_LOGPROBS_ROLLOUT \(got 5\)/,
      ),
  );
});

test('proto3 optional fields keep an explicit 0 (gamma 0, no gradient clipping, a labeled: false source)', () => {
  const c = parseRunConfig({
    ...minimal,
    gamma: 0,
    maxGradNorm: 0,
    dataMix: [{ name: 'toy', labeled: false }],
    labeledRatio: { unlabeled: 1 },
  });
  assert.equal(c.gamma, 0);
  assert.equal(c.maxGradNorm, 0);
  assert.equal(c.dataMix[0]!.labeled, false);
});

test('every bad field is named with its limit in one INVALID_ARGUMENT', () => {
  invalid(
    () =>
      parseRunConfig({
        ...minimal,
        groupSize: 1,
        promptsPerStep: 3,
        minibatchSize: 4,
        learningRate: -1,
        stalenessBound: 1.5,
        reward: { weights: { lambdaVr: 0.7, muJudge: 0.7 } },
        adamBeta2: 1,
        isCap: 0.5,
        minLrRatio: 2,
      }),
    (m) => {
      for (const f of [
        'groupSize',
        'minibatchSize',
        'learningRate',
        'stalenessBound',
        'reward.weights',
        'adamBeta2',
        'isCap',
        'minLrRatio',
      ]) {
        assert.match(m, new RegExp(`\\b${f.replace('.', '\\.')}\\b`), f);
      }
      assert.match(m, /GRPO needs groupSize >= 2/);
      assert.match(m, /learningRate: must be > 0 \(got -1\)/);
      assert.match(m, /stalenessBound: must be an integer/);
      assert.match(m, /adamBeta2: must be < 1 \(got 1\)/);
      assert.match(m, /sum to 1/);
    },
  );
  invalid(
    () =>
      validateRunConfig({
        ...parseRunConfig(minimal),
        reward: { ...parseRunConfig(minimal).reward, verifiableCheck: 9 as rewardV1.VerifiableCheck },
      }),
    (m) => assert.match(m, /reward\.verifiableCheck: must be one of 0, 1, 2 \(got 9\)/),
  );
  assert.equal(
    parseRunConfig({
      ...minimal,
      reward: { ...minimal.reward, verifiableCheck: 'VERIFIABLE_CHECK_ANSWER_AND_ARITHMETIC' },
    }).reward.verifiableCheck,
    rewardV1.VerifiableCheck.VERIFIABLE_CHECK_ANSWER_AND_ARITHMETIC,
    'the JSON mapping takes the enum name',
  );
  invalid(
    () => parseRunConfig({ ...minimal, generateAhead: true }),
    (m) => assert.match(m, /generateAhead: needs stalenessBound >= 1/),
  );
});

test('the JSON mapping: unknown keys, wrong JSON types and unknown enum names are named, snake_case is accepted', () => {
  invalid(
    () =>
      parseRunConfig({
        ...minimal,
        typo: 1,
        student: { dir: '/x' },
        dataMix: [{ name: 'toy', labeled: 'yes' }],
        groupSize: '4',
        algorithm: 'grpo',
        reward: { weights: { lambdaVr: 1, nu: 0 } },
      }),
    (m) => {
      assert.match(m, /typo: unknown field/);
      assert.match(m, /student\.dir: unknown field \(known: modelId, checkpointUri\)/);
      assert.match(m, /dataMix\[0\]\.labeled: must be true or false/);
      assert.match(m, /groupSize: must be a number/);
      assert.match(m, /algorithm: .*grpo/);
      assert.match(m, /reward\.weights\.nu: unknown field/);
    },
  );
  const c = parseRunConfig({ ...minimal, group_size: 6, kl_estimator: 'KL_ESTIMATOR_K1' });
  assert.equal(c.groupSize, 6);
  assert.equal(c.klEstimator, learnerV1.KlEstimator.KL_ESTIMATOR_K1);
});

test('unlabeled questions need a judge term; dynamic sampling is GRPO only', () => {
  invalid(
    () => parseRunConfig({ ...minimal, reward: { weights: { lambdaVr: 1 } } }),
    (m) => assert.match(m, /reward\.unlabeled: unlabeled questions need the judge/),
  );
  invalid(
    () => parseRunConfig({ ...minimal, algorithm: 'ALGORITHM_PPO', dynamicSampling: true }),
    (m) => assert.match(m, /dynamicSampling: is GRPO only/),
  );
});

test('the validated config is the proto: its JSON reads back to itself, its wire form validates to itself', () => {
  const c = parseRunConfig({
    ...minimal,
    groupSize: 4,
    promptsPerStep: 2,
    minibatchSize: 4,
    stalenessBound: 1,
    rolloutSampling: { temperature: 0.5, maxNewTokens: 12, stopStrings: ['\n\n'] },
    maxSteps: 3,
    seed: 7,
    lrDecay: 'LR_DECAY_COSINE',
    warmupSteps: 2,
    minLrRatio: 0.1,
    generateAhead: true,
  });
  assert.deepEqual(parseRunConfig(runConfigToJson(c)), c);
  const wire = learnerV1.RunConfig.decode(learnerV1.RunConfig.encode(c).finish());
  assert.deepEqual(validateRunConfig(wire), c);
});

test('a wire config: an unspecified algorithm is GRPO, an unknown one is named', () => {
  const wire: learnerV1.RunConfig = { ...parseRunConfig(minimal), algorithm: 0 };
  assert.equal(validateRunConfig(wire).algorithm, learnerV1.Algorithm.ALGORITHM_GRPO);
  invalid(
    () => validateRunConfig({ ...wire, algorithm: 7 as learnerV1.Algorithm }),
    (m) => assert.match(m, /algorithm: must be one of ALGORITHM_GRPO, ALGORITHM_PPO \(got 7\)/),
  );
});

test('a relative checkpointUri resolves against the config file folder; URIs with a scheme stay', () => {
  const c = parseRunConfig(
    { ...minimal, student: { checkpointUri: 'models/s' }, reference: { checkpointUri: 's3://b/ref' } },
    { baseDir: '/runs/a' },
  );
  assert.equal(c.student.checkpointUri, '/runs/a/models/s');
  assert.equal(c.reference.checkpointUri, 's3://b/ref');
});

test('a run file: relative paths from its folder; a bad one fails the learner config load (exit 2) naming the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-run-file-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ ...minimal, student: { checkpointUri: 'student' } }));
    assert.equal(loadRunConfigFile(good).student.checkpointUri, join(dir, 'student'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...minimal, groupSize: 1 }));
    invalid(
      () => loadLearnerConfig({ NATS_URL: 'nats://127.0.0.1:4222', LEARNER_RUN_CONFIG: bad }),
      (m) => assert.match(m, /groupSize: GRPO needs groupSize >= 2/),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
