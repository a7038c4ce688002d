import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyWorkerOptionsError, resolvePolicyWorkerOptions } from './worker-options.js';

const minimal = { modelDir: '/m', optimizer: { learningRate: 1e-5 } };

test('defaults are the learner’s previous behaviour', () => {
  const c = resolvePolicyWorkerOptions(minimal);
  assert.equal(c.referenceDir, '/m');
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
  assert.equal(c.execution.intraOpThreads, 1);
});

test('enabled sub-options get their defaults: truncated IS cap 2 / mean, value head 0.5 / clip 0.2', () => {
  const c = resolvePolicyWorkerOptions({ ...minimal, policyLoss: { truncatedIs: {} }, valueHead: {} });
  assert.deepEqual(c.policyLoss.truncatedIs, { cap: 2, aggregation: 'mean' });
  assert.deepEqual(c.valueHead, { coef: 0.5, clipRange: 0.2 });
});

test('kl.coef 0 and no metric: no reference is needed', () => {
  assert.equal(
    resolvePolicyWorkerOptions({ ...minimal, kl: { coef: 0, metric: false } }).kl.needsReference,
    false,
  );
  assert.equal(
    resolvePolicyWorkerOptions({ ...minimal, kl: { coef: 0.01, metric: false } }).kl.needsReference,
    true,
  );
});

test('a decaying schedule carries totalSteps and the floor', () => {
  const c = resolvePolicyWorkerOptions({
    ...minimal,
    lrSchedule: { kind: 'linear', warmupSteps: 10, totalSteps: 200, minLr: 1e-6 },
  });
  assert.deepEqual(c.lrSchedule, {
    kind: 'linear',
    peakLr: 1e-5,
    warmupSteps: 10,
    minLr: 1e-6,
    totalSteps: 200,
  });
});

test('bad options: the error names the field and its limit', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ optimizer: { learningRate: 0 } }, 'optimizer.learningRate', /must be > 0, got 0/],
    [{ optimizer: { learningRate: 1e-5, beta2: 1 } }, 'optimizer.beta2', /must be in \[0, 1\), got 1/],
    [{ optimizer: { learningRate: 1e-5, weightDecay: -1 } }, 'optimizer.weightDecay', /must be >= 0/],
    [{ kl: { coef: -0.1 } }, 'kl.coef', /must be >= 0/],
    [{ kl: { estimator: 'k2' } }, 'kl.estimator', /'k1' or 'k3', got "k2"/],
    [{ policyLoss: { clipLow: 1 } }, 'policyLoss.clipLow', /\[0, 1\)/],
    [{ policyLoss: { truncatedIs: { cap: 0 } } }, 'policyLoss.truncatedIs.cap', /must be > 0/],
    [{ valueHead: { clipRange: 0 } }, 'valueHead.clipRange', /must be > 0/],
    [
      { lrSchedule: { kind: 'cosine', warmupSteps: 5 } },
      'lrSchedule.totalSteps',
      /integer > warmupSteps \(5\)/,
    ],
    [{ lrSchedule: { minLr: 1 } }, 'lrSchedule.minLr', /learningRate = 0.00001/],
    [{ execution: { intraOpThreads: 0 } }, 'execution.intraOpThreads', /integer >= 1/],
  ];
  for (const [patch, field, message] of cases) {
    assert.throws(
      () => resolvePolicyWorkerOptions({ ...minimal, ...patch } as never),
      (e: unknown) =>
        e instanceof PolicyWorkerOptionsError &&
        e.field === field &&
        e.message.startsWith(`PolicyWorkerOptions.${field} `) &&
        message.test(e.message),
      field,
    );
  }
});
