import type { ExperimentConfig } from './experiment-config.js';

export type ArmAlgorithm = 'sft' | 'grpo' | 'ppo';

/** One arm of the experiment: what is trained, on which questions, with which reward. */
export interface ArmSpec {
  /** Stable id (run ids, file names): `rlvr-grpo`. */
  readonly id: string;
  /** Row label of the results table. */
  readonly label: string;
  readonly algorithm: ArmAlgorithm;
  /** λ (verifiable), μ (judge) and ρ (rerank, absent = 0); λ + μ + ρ = 1. SFT: unused. */
  readonly lambdaVr: number;
  readonly muJudge: number;
  /**
   * ρ: the reward-service's rerank term, each sample's judge score ranked within its group of G
   * (the paper's ρ source is a trained verifier; the judge's group rank is what runs here).
   */
  readonly rhoRerank?: number;
  /** Which judge scores the rollouts (and the shadow slice). */
  readonly judge: 'main' | 'weak';
  /** Questions in the training pool: labeled (gold used) and unlabeled (never). */
  readonly labeledProblems: number;
  readonly unlabeledProblems: number;
  /** True for arms whose guard alarm is the expected outcome (the weak-judge demonstration). */
  readonly expectAlarm: boolean;
  /** What the verifiable reward checks (default: the final answer). */
  readonly verifiableCheck?: 'answer' | 'answer-and-arithmetic';
  /** A diagnostic arm: runs only when `--arms` names it, never part of the claim. */
  readonly probe?: boolean;
  /** Part of the paper's whole table (`npm start -- --full`), not of the default run the claim needs. */
  readonly fullOnly?: boolean;
}

/**
 * The arms of the paper's central comparison (DESIGN.md §1), all from the same SFT student with the
 * same seeds and step budget: SFT (no RL), RLVR (λ=1, labeled only), VR + judge (λ=μ=0.5, plus an
 * unlabeled pool `unlabeledMultiple` times the labeled one) with GRPO and PPO, judge-only (λ=0, the
 * same questions without their labels), and judge-only with a deliberately weak judge.
 */
export function experimentArms(config: ExperimentConfig): ArmSpec[] {
  const n = config.labeledProblems;
  const u = n * config.unlabeledMultiple;
  const arm = (a: Omit<ArmSpec, 'expectAlarm'> & { expectAlarm?: boolean }): ArmSpec => ({
    expectAlarm: false,
    ...a,
  });
  const rlvr = arm({
    id: 'rlvr-grpo',
    label: 'RLVR (λ=1), GRPO',
    algorithm: 'grpo',
    lambdaVr: 1,
    muJudge: 0,
    judge: 'main',
    labeledProblems: n,
    unlabeledProblems: 0,
  });
  return [
    arm({
      id: 'sft',
      label: 'SFT (no RL)',
      algorithm: 'sft',
      lambdaVr: 0,
      muJudge: 0,
      judge: 'main',
      labeledProblems: 0,
      unlabeledProblems: 0,
    }),
    rlvr,
    arm({
      id: 'vr-judge-grpo',
      label: `VR + judge (λ=μ=0.5, +${config.unlabeledMultiple}× unlabeled), GRPO`,
      algorithm: 'grpo',
      lambdaVr: 0.5,
      muJudge: 0.5,
      judge: 'main',
      labeledProblems: n,
      unlabeledProblems: u,
    }),
    arm({
      id: 'vr-judge-ppo',
      fullOnly: true,
      label: `VR + judge (λ=μ=0.5, +${config.unlabeledMultiple}× unlabeled), PPO`,
      algorithm: 'ppo',
      lambdaVr: 0.5,
      muJudge: 0.5,
      judge: 'main',
      labeledProblems: n,
      unlabeledProblems: u,
    }),
    arm({
      id: 'judge-only-grpo',
      label: 'judge only (λ=0), GRPO',
      algorithm: 'grpo',
      lambdaVr: 0,
      muJudge: 1,
      judge: 'main',
      labeledProblems: 0,
      unlabeledProblems: n + u,
    }),
    arm({
      id: 'weak-judge-grpo',
      label: 'judge only (λ=0), weak length-biased judge, GRPO',
      algorithm: 'grpo',
      lambdaVr: 0,
      muJudge: 1,
      judge: 'weak',
      labeledProblems: 0,
      unlabeledProblems: n + u,
      expectAlarm: true,
    }),
    // The paper's rows with the ρ term (whole table only).
    arm({
      id: 'semi-supervised-grpo',
      label: `semi-supervised (λ=.5, μ=ρ=.25, +${config.unlabeledMultiple}× unlabeled), GRPO`,
      algorithm: 'grpo',
      lambdaVr: 0.5,
      muJudge: 0.25,
      rhoRerank: 0.25,
      judge: 'main',
      labeledProblems: n,
      unlabeledProblems: u,
      fullOnly: true,
    }),
    arm({
      id: 'judge-rerank-grpo',
      label: 'judge only (λ=0, μ=ρ=.5), GRPO',
      algorithm: 'grpo',
      lambdaVr: 0,
      muJudge: 0.5,
      rhoRerank: 0.5,
      judge: 'main',
      labeledProblems: 0,
      unlabeledProblems: n + u,
      fullOnly: true,
    }),
    // The probes: RLVR with one thing changed (issue 15 item 6). The toy student reaches many right
    // answers through wrong steps (a small integer answer is often hit by chance), so the answer
    // check also rewards guesses; a calculator check of every step separates that reward noise.
    {
      ...rlvr,
      id: 'rlvr-arith-grpo',
      label: 'RLVR, answer + every step checked (λ=1), GRPO [probe]',
      verifiableCheck: 'answer-and-arithmetic',
      probe: true,
    },
    // The perfect-judge ceiling of VR + judge: the same questions (labeled and unlabeled pools),
    // every one with its gold answer. What a judge that agreed with the answer check could reach.
    {
      ...rlvr,
      id: 'rlvr-all-grpo',
      label: `RLVR on every question (λ=1, ${config.unlabeledMultiple}× unlabeled labeled too), GRPO [probe]`,
      labeledProblems: n + u,
      probe: true,
    },
  ];
}

/**
 * `--arms a,b` filter; unknown ids are an error naming them. SFT is always kept (the baseline);
 * without ids, the arms the claim needs — with `full`, the paper's whole table — never the probes.
 */
export function selectArms(
  arms: readonly ArmSpec[],
  ids: readonly string[] | undefined,
  options: { readonly full?: boolean } = {},
): ArmSpec[] {
  if (ids === undefined || ids.length === 0) {
    return arms.filter((a) => a.probe !== true && (options.full === true || a.fullOnly !== true));
  }
  const unknown = ids.filter((id) => !arms.some((a) => a.id === id));
  if (unknown.length > 0) {
    throw new RangeError(`unknown arm ${unknown.join(', ')} (arms: ${arms.map((a) => a.id).join(', ')})`);
  }
  return arms.filter((a) => a.id === 'sft' || ids.includes(a.id));
}
