import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateRunConfig } from '@verdict/learner';
import { learnerV1, rewardV1 } from '@verdict/proto';
import { experimentArms, experimentConfig } from '@verdict/recipes';
import { armRunConfig } from './arm-run-config.js';

const config = experimentConfig('default');

test('run configs: same budget and seeds for every RL arm; judge-only marks its data unlabeled', () => {
  const arms = experimentArms(config).filter((a) => a.algorithm !== 'sft');
  const runs = arms.map((a) => armRunConfig(a, config, { seed: 3, studentDir: '/s', judgeModelId: 'j' }));
  for (const r of runs) {
    assert.equal(r.maxSteps, config.steps);
    assert.equal(r.promptsPerStep, config.promptsPerStep);
    assert.equal(r.groupSize, config.groupSize);
    assert.equal(r.seed, 3);
    assert.equal(r.dataSeed, 3);
    assert.equal((r.promptsPerStep * r.groupSize) % r.minibatchSize, 0);
    assert.equal(r.minibatchSize % r.microBatchSize, 0);
    assert.equal(validateRunConfig(r).runId, r.runId, 'the learner accepts it');
  }
  const byId = new Map(arms.map((a, i) => [a.id, runs[i]!]));
  assert.equal(byId.get('vr-judge-ppo')!.algorithm, learnerV1.Algorithm.ALGORITHM_PPO);
  assert.equal(byId.get('vr-judge-ppo')!.epochsPerStep, config.ppoEpochs);
  const n = config.labeledProblems;
  assert.deepEqual(byId.get('vr-judge-grpo')!.labeledRatio, { labeled: 1, unlabeled: 4 }, 'in lowest terms');
  assert.deepEqual(byId.get('rlvr-grpo')!.labeledRatio, { labeled: 1, unlabeled: 0 });
  assert.deepEqual(byId.get('judge-only-grpo')!.labeledRatio, { labeled: 0, unlabeled: 1 });
  assert.equal(byId.get('vr-judge-grpo')!.dataMix[0]!.limit, 5 * n);
  // The schedule and dynamic sampling reach the run; PPO gets no dynamic sampling (GRPO's).
  const rlvr = validateRunConfig(byId.get('rlvr-grpo')!);
  assert.equal(rlvr.warmupSteps, config.warmupSteps);
  assert.equal(rlvr.lrDecay, learnerV1.LrDecay.LR_DECAY_LINEAR);
  assert.equal(rlvr.dynamicSampling, config.dynamicSampling);
  assert.equal(byId.get('vr-judge-ppo')!.dynamicSampling, false);
  assert.equal(byId.get('judge-only-grpo')!.dataMix[0]!.labeled, false);
  assert.deepEqual(byId.get('rlvr-grpo')!.reward?.weights, { lambdaVr: 1, muJudge: 0, rhoRerank: 0 });
  // The paper's ρ rows reach the reward config (the reward-service's group-rank term).
  assert.deepEqual(byId.get('semi-supervised-grpo')!.reward?.weights, {
    lambdaVr: 0.5,
    muJudge: 0.25,
    rhoRerank: 0.25,
  });
  assert.deepEqual(byId.get('judge-rerank-grpo')!.reward?.weights, {
    lambdaVr: 0,
    muJudge: 0.5,
    rhoRerank: 0.5,
  });
  assert.equal(byId.get('judge-rerank-grpo')!.dataMix[0]!.labeled, false);
  assert.equal(byId.get('rlvr-grpo')!.runId, 'rlvr-grpo-s3');
  // The probe differs from RLVR only in what its verifiable reward checks.
  assert.equal(
    byId.get('rlvr-grpo')!.reward?.verifiableCheck,
    rewardV1.VerifiableCheck.VERIFIABLE_CHECK_UNSPECIFIED,
  );
  const probe = byId.get('rlvr-arith-grpo')!;
  assert.equal(
    probe.reward?.verifiableCheck,
    rewardV1.VerifiableCheck.VERIFIABLE_CHECK_ANSWER_AND_ARITHMETIC,
  );
  assert.deepEqual(
    { ...probe, runId: '', reward: { ...probe.reward!, verifiableCheck: 0 } },
    { ...byId.get('rlvr-grpo')!, runId: '' },
  );
  assert.throws(() =>
    armRunConfig(experimentArms(config)[0]!, config, { seed: 0, studentDir: '', judgeModelId: '' }),
  );
});
