// Fixtures for the experiment's pure tests: the default config, runs with fixed accuracies, runs with
// per-problem scores, and a result around them.
import {
  type ArmSeedResult,
  type ArmSpec,
  checkClaim,
  type ExperimentResult,
  experimentConfig,
  type SuiteScore,
  summariseArms,
} from '../src/index.js';

export const config = experimentConfig('default');

export function score(suite: string, greedy: number, majAtK: number): SuiteScore {
  return { suite, n: 100, greedy, majAtK, k: 4, policyVersion: 1 };
}

export function run(armId: string, seed: number, id: number, alarmStep: number | null = null): ArmSeedResult {
  return {
    armId,
    seed,
    runId: `${armId}-s${seed}`,
    status: armId === 'sft' ? 'baseline' : 'completed',
    steps: 3,
    alarmStep,
    guardEvents: alarmStep === null ? [] : [{ step: alarmStep, action: 'stop', reason: 'judge reward up' }],
    eval: { id: score('toy-id', id, id + 0.05), ood: score('toy-ood', id / 2, id / 2) },
    curve: [
      { step: 0, heldOutAccuracy: 0.2 },
      { step: 1, rewardTotal: 0.4, kl: 0.001, heldOutAccuracy: 0.22, shadowAgreement: 0.8 },
      { step: 2, rewardTotal: 0.5, kl: 0.002, rewardJudge: 0.6 },
    ],
    seconds: 1,
  };
}

/** A run whose per-problem scores are given: greedy 0/1 per problem, mean@4 = greedy ± a quarter. */
export function scoredRun(
  armId: string,
  seed: number,
  greedy: readonly number[],
  ids?: readonly string[],
): ArmSeedResult {
  const base = run(armId, seed, 0);
  const suite = (name: string): SuiteScore => {
    const meanAtK = greedy.map((g, i) => (g === 1 ? (i % 2 === 0 ? 1 : 0.75) : i % 3 === 0 ? 0.25 : 0));
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      suite: name,
      n: greedy.length,
      greedy: mean(greedy),
      majAtK: mean(greedy),
      meanAtK: mean(meanAtK),
      k: 4,
      policyVersion: 1,
      problems: { ids: ids ?? greedy.map((_, i) => `p${i}`), greedy, meanAtK, majAtK: greedy },
    };
  };
  return { ...base, eval: { id: suite('toy-id'), ood: suite('toy-ood') } };
}

/** 200 problems: `right` of them correct, the first `offset` skipped (so arms disagree on some). */
export const outcomes = (right: number, offset = 0) =>
  Array.from({ length: 200 }, (_, i) => (i >= offset && i < offset + right ? 1 : 0));

/** The experiment result of `runs` (seed 0's toy world stand-in), with whatever else a test adds. */
export function resultOf(
  arms: readonly ArmSpec[],
  runs: readonly ArmSeedResult[],
  extra: Partial<ExperimentResult> = {},
): ExperimentResult {
  const summary = summariseArms(arms, runs);
  return {
    format: 'verdict.experiment.v1',
    config,
    seeds: [...new Set(runs.map((r) => r.seed))],
    toyWorld: { hash: 'h', budget: 'full', studentAccuracyId: 0.2, judgeAuroc: 0.95 },
    arms,
    runs,
    summary,
    claim: checkClaim(summary),
    ...extra,
  };
}
