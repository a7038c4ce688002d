import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolvePolicyWorkerOptions } from '@verdict/rl';
import { parseRunConfig } from '../run-config/run-config.js';
import { trainingOptionsFromRunConfig } from './policy-trainer.js';

const minimal = {
  runId: 'r1',
  student: { checkpointUri: '/models/student' },
  judge: { modelId: 'toy-judge' },
  dataMix: [{ name: 'toy', limit: 50 }],
  algorithm: 'ALGORITHM_GRPO',
  promptsPerStep: 4,
  groupSize: 4,
};

test('run-config defaults map to the worker defaults (the learner trains as before)', () => {
  const { worker, gae } = trainingOptionsFromRunConfig(parseRunConfig(minimal));
  const c = resolvePolicyWorkerOptions(worker);
  assert.equal(gae, null);
  assert.equal(c.modelDir, '/models/student');
  assert.equal(c.referenceDir, '/models/student');
  assert.deepEqual(c.policyLoss, {
    clipLow: 0.2,
    clipHigh: 0.2,
    entropyCoef: 0,
    entropyMetric: false,
    aggregation: 'token-mean',
    truncatedIs: null,
  });
  assert.deepEqual(c.kl, { coef: 0, estimator: 'k3', placement: 'loss', metric: true, needsReference: true });
  assert.equal(c.valueHead, null);
  assert.deepEqual(c.optimizer, {
    learningRate: 1e-5,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    weightDecay: 0,
    maxGradNorm: 1,
  });
  assert.deepEqual(c.lrSchedule, { kind: 'constant', peakLr: 1e-5, warmupSteps: 0, minLr: 0 });
});

test('every RL field reaches the worker; run steps become optimizer updates for the schedule', () => {
  const run = parseRunConfig({
    ...minimal,
    minibatchSize: 8, // 16 samples → 2 updates per epoch
    epochsPerStep: 2, // → 4 updates per step
    maxSteps: 50,
    learningRate: 1e-4,
    warmupSteps: 5,
    lrDecay: 'LR_DECAY_COSINE',
    minLrRatio: 0.1,
    klCoef: 0.04,
    klEstimator: 'KL_ESTIMATOR_K1',
    clipEpsilon: 0.3,
    lossAggregation: 'LOSS_AGGREGATION_SEQUENCE_MEAN',
    stalenessBound: 1,
    stalenessPolicy: 'STALENESS_POLICY_IMPORTANCE_CORRECT',
    isCap: 3,
    adamBeta1: 0.8,
    adamBeta2: 0.95,
    weightDecay: 0.01,
    maxGradNorm: 0.5,
  });
  const c = resolvePolicyWorkerOptions(trainingOptionsFromRunConfig(run).worker);
  assert.deepEqual(c.lrSchedule, {
    kind: 'cosine',
    peakLr: 1e-4,
    warmupSteps: 20,
    minLr: 1e-4 * 0.1,
    totalSteps: 200,
  });
  assert.deepEqual(c.kl, {
    coef: 0.04,
    estimator: 'k1',
    placement: 'loss',
    metric: true,
    needsReference: true,
  });
  assert.deepEqual(c.policyLoss, {
    clipLow: 0.3,
    clipHigh: 0.3,
    entropyCoef: 0,
    entropyMetric: false,
    aggregation: 'sequence-mean',
    truncatedIs: { cap: 3, aggregation: 'mean' },
  });
  assert.deepEqual(c.optimizer, {
    learningRate: 1e-4,
    beta1: 0.8,
    beta2: 0.95,
    epsilon: 1e-8,
    weightDecay: 0.01,
    maxGradNorm: 0.5,
  });
});

test('PPO: value head with its clip range, KL in the reward, GAE options', () => {
  const run = parseRunConfig({
    ...minimal,
    algorithm: 'ALGORITHM_PPO',
    klCoef: 0.05,
    valueClipRange: 0.5,
    valueCoef: 0.1,
    gamma: 0.99,
    gaeLambda: 0.9,
  });
  const { worker, gae } = trainingOptionsFromRunConfig(run);
  const c = resolvePolicyWorkerOptions(worker);
  assert.deepEqual(c.valueHead, { coef: 0.1, clipRange: 0.5 });
  assert.equal(c.kl.placement, 'reward');
  assert.deepEqual(gae, { gamma: 0.99, lambda: 0.9, klCoef: 0.05, klEstimator: 'k1' });
});

test('behaviourLogprobs ROLLOUT: the worker computes the entropy in its updates (no scoring pass gives it)', () => {
  const rollout = parseRunConfig({ ...minimal, behaviourLogprobs: 'BEHAVIOUR_LOGPROBS_ROLLOUT' });
  const c = resolvePolicyWorkerOptions(trainingOptionsFromRunConfig(rollout).worker);
  assert.equal(c.policyLoss.entropyMetric, true);
  assert.equal(c.policyLoss.entropyCoef, 0, 'reported, not in the loss');
});
