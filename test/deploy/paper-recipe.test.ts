import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadRunConfigFile, type ValidRunConfig } from '@verdict/learner';
import {
  chartDir,
  ensureHelm,
  envValue,
  find,
  helm,
  type K8sObject,
  kubeVersion,
  podTemplates,
  render,
  repoRoot,
  validateObject,
} from './helm.js';

// The paper-scale recipe (deploy/recipes/paper-galactica): each arm's run config passes the learner's
// own validator with the paper's λ/μ/ρ, and the chart renders it, with each arm overlay, into exactly
// that run config and the matching reward-service weights.

const recipeDir = join(repoRoot, 'deploy/recipes/paper-galactica');
/** Values files are given to the helpers relative to the chart. */
const fromChart = (file: string) => relative(chartDir, join(recipeDir, file));

/** The paper's table (DESIGN.md §1): λ (verifiable), μ (judge), ρ (rerank). */
const ARMS = {
  rlvr: { lambdaVr: 1, muJudge: 0, rhoRerank: 0 },
  'vr-judge': { lambdaVr: 0.5, muJudge: 0.5, rhoRerank: 0 },
  'judge-only': { lambdaVr: 0, muJudge: 1, rhoRerank: 0 },
  'semi-supervised': { lambdaVr: 0.5, muJudge: 0.25, rhoRerank: 0.25 },
  'judge-rerank': { lambdaVr: 0, muJudge: 0.5, rhoRerank: 0.5 },
} as const;
type Arm = keyof typeof ARMS;
const armNames = Object.keys(ARMS) as Arm[];
/** values-paper.yaml alone runs this arm; the others add arms/<arm>.values.yaml. */
const DEFAULT_ARM: Arm = 'vr-judge';

const armFile = (arm: Arm) => join(recipeDir, 'arms', `${arm}.json`);
const armValues = (arm: Arm) =>
  arm === DEFAULT_ARM
    ? [fromChart('values-paper.yaml')]
    : [fromChart('values-paper.yaml'), fromChart(`arms/${arm}.values.yaml`)];

/** What must be equal across arms: everything but the data, its labeled share, the reward and the id. */
function budget(c: ValidRunConfig): unknown {
  const { runId: _r, dataMix: _d, labeledRatio: _l, reward, ...rest } = c;
  return { ...rest, judgeTemplateName: reward.judgeTemplateName, judgeTimeout: reward.judgeTimeout };
}

before(() => ensureHelm());

describe('paper recipe: run configs (learner validator)', () => {
  const configs = new Map(armNames.map((arm) => [arm, loadRunConfigFile(armFile(arm))]));

  test("every arm validates with the paper's λ/μ/ρ, GRPO, the Galactica-125M student and the Qwen3-8B judge", () => {
    for (const [arm, c] of configs) {
      assert.deepEqual(c.reward.weights, ARMS[arm], arm);
      assert.equal(c.algorithm, 1, `${arm}: ALGORITHM_GRPO`);
      assert.equal(c.student.checkpointUri, '/data/models/galactica-125m', arm);
      assert.equal(c.reference.checkpointUri, '/data/models/galactica-125m', arm);
      assert.equal(c.judge.modelId, 'qwen3-8b', arm);
      assert.equal(c.reward.judgeTemplateName, 'chat', `${arm}: Qwen3 chat template, thinking off`);
      assert.ok(
        c.dataMix.every((s) => s.name === 'gsm8k-train'),
        arm,
      );
    }
  });

  test('every arm has the same budget (steps, batch, G, LR, KL, sampling, seeds)', () => {
    const reference = budget(configs.get('rlvr')!);
    for (const [arm, c] of configs) assert.deepEqual(budget(c), reference, arm);
    const c = configs.get('rlvr')!;
    assert.equal((c.promptsPerStep * c.groupSize) % c.minibatchSize, 0);
  });

  test('λ = 0 arms never load a gold answer; semi-supervised draws labeled:unlabeled 1:3', () => {
    for (const [arm, c] of configs) {
      const gold = c.dataMix.some((s) => s.labeled) && c.labeledRatio.labeled > 0;
      assert.equal(gold, ARMS[arm].lambdaVr > 0, arm);
    }
    assert.deepEqual(configs.get('semi-supervised')!.labeledRatio, { labeled: 1, unlabeled: 3 });
    assert.deepEqual(configs.get('semi-supervised')!.reward.unlabeled, {
      verifiable: false,
      judge: true,
      rerank: true,
    });
  });
});

describe('paper recipe: the chart', () => {
  test('helm lint --strict passes for values-paper.yaml and each arm overlay', () => {
    for (const arm of armNames) {
      const files = armValues(arm).flatMap((f) => ['-f', join(chartDir, f)]);
      const r = helm(['lint', chartDir, '--strict', '--kube-version', kubeVersion, ...files]);
      assert.equal(r.status, 0, `${arm}: ${r.stdout}${r.stderr}`);
    }
  });

  for (const arm of armNames) {
    test(`${arm}: the learner gets exactly arms/${arm}.json and the reward-service its λ/μ/ρ`, () => {
      const objects = render({ valuesFiles: armValues(arm) });
      for (const o of objects) validateObject(o);
      const cm = find(objects, 'ConfigMap', 'verdict-learner-run-config');
      const rendered: unknown = JSON.parse(cm.data!['run-config.json']!);
      assert.deepEqual(rendered, JSON.parse(readFileSync(armFile(arm), 'utf8')));

      const reward = container(objects, 'Deployment', 'verdict-reward-service');
      const w = ARMS[arm];
      assert.equal(Number(envValue(reward, 'REWARD_LAMBDA_VR')), w.lambdaVr);
      assert.equal(Number(envValue(reward, 'REWARD_MU_JUDGE')), w.muJudge);
      assert.equal(Number(envValue(reward, 'REWARD_RHO_RERANK')), w.rhoRerank);
      const replicas = find(objects, 'Deployment', 'verdict-reward-service').spec?.['replicas'];
      if (w.rhoRerank > 0) assert.equal(replicas, 1, 'a rerank group must reach one replica');
    });
  }

  test('models, GPUs and data: Galactica-125M policy and learner, Qwen3-8B judge (chat template), PVCs', () => {
    const objects = render({ valuesFiles: armValues(DEFAULT_ARM) });
    const policy = container(objects, 'Deployment', 'verdict-policy-server');
    const judge = container(objects, 'Deployment', 'verdict-judge-server');
    const learner = container(objects, 'StatefulSet', 'verdict-learner');
    assert.equal(envValue(policy, 'POLICY_MODEL_DIR'), '/data/models/galactica-125m');
    assert.equal(envValue(judge, 'JUDGE_MODEL_DIR'), '/data/models/qwen3-8b');
    assert.equal(envValue(judge, 'JUDGE_DEFAULT_TEMPLATE'), 'chat');
    for (const [name, c, prefix] of [
      ['policy', policy, 'POLICY'],
      ['judge', judge, 'JUDGE'],
      ['learner', learner, 'LEARNER'],
    ] as const) {
      assert.equal(c.resources?.limits?.['nvidia.com/gpu'], 1, `${name} GPU`);
      assert.equal(envValue(c, `${prefix}_EXECUTION_PROVIDER`), 'cuda', name);
      assert.equal(envValue(c, `${prefix}_EXECUTION_PROVIDER_FALLBACK`), 'never', name);
    }
    const run = JSON.parse(
      find(objects, 'ConfigMap', 'verdict-learner-run-config').data!['run-config.json']!,
    );
    const learnerPod = podTemplates([find(objects, 'StatefulSet', 'verdict-learner')])[0]!.template;
    const claims = (learnerPod.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName);
    assert.ok(claims.includes('verdict-models') && claims.includes('verdict-datasets'), String(claims));
    // The chart README's rule: the student must be one of the learner's model folders.
    assert.equal(run.student.checkpointUri, '/data/models/galactica-125m');
    assert.equal(envValue(learner, 'LEARNER_EVALUATOR_ADDRESS'), 'verdict-evaluator:50055');
  });
});

function container(objects: readonly K8sObject[], kind: string, name: string) {
  return podTemplates([find(objects, kind, name)])[0]!.template.spec!.containers[0]!;
}
