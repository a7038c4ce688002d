import type { ArmSpec } from './arms.js';
import type { ExperimentConfig } from './experiment-config.js';

/** The learner's run-config JSON (services/learner README) for one arm and seed. */
export interface ArmRunConfigJson {
  readonly runId: string;
  readonly student: { readonly dir: string; readonly modelId: string };
  readonly judge: { readonly modelId: string };
  readonly data: {
    readonly sources: readonly { name: string; split: string; labeled: boolean; limit: number }[];
    readonly labeledRatio: { readonly labeled: number; readonly unlabeled: number };
    readonly seed: number;
  };
  readonly reward: { readonly lambdaVr: number; readonly muJudge: number; readonly rhoRerank: number };
  readonly algorithm: 'grpo' | 'ppo';
  readonly promptsPerStep: number;
  readonly groupSize: number;
  readonly minibatchSize: number;
  readonly microBatchSize: number;
  readonly epochsPerStep: number;
  readonly learningRate: number;
  readonly klCoef: number;
  readonly sampling: {
    readonly temperature: number;
    readonly topP: number;
    readonly topK: number;
    readonly maxNewTokens: number;
  };
  readonly evalEverySteps: number;
  readonly maxSteps: number;
  readonly seed: number;
  readonly stepTimeoutMs: number;
}

export function armRunId(arm: ArmSpec, seed: number): string {
  return `${arm.id}-s${seed}`;
}

/**
 * The run config of an RL arm. Labeled and unlabeled questions come from one toy source of
 * `labeled + unlabeled` problems, split by the learner's seeded `partitionLabeled` in that ratio, so
 * the two pools are disjoint and each step draws them in the same ratio. Judge-only arms mark the
 * whole source unlabeled: no gold answer reaches the run. Every seed derives from `seed`.
 */
export function armRunConfig(
  arm: ArmSpec,
  config: ExperimentConfig,
  options: { seed: number; studentDir: string; judgeModelId: string },
): ArmRunConfigJson {
  if (arm.algorithm === 'sft') throw new RangeError('the SFT arm has no RL run');
  const total = arm.labeledProblems + arm.unlabeledProblems;
  const labeled = arm.labeledProblems > 0;
  const samples = config.promptsPerStep * config.groupSize;
  // Two optimizer updates per step when the batch splits evenly: more learning per rollout.
  const minibatchSize = samples % 2 === 0 && samples >= 8 ? samples / 2 : samples;
  return {
    runId: armRunId(arm, options.seed),
    student: { dir: options.studentDir, modelId: 'toy-student' },
    judge: { modelId: options.judgeModelId },
    data: {
      sources: [{ name: 'toy', split: 'id', labeled, limit: total }],
      labeledRatio: { labeled: arm.labeledProblems, unlabeled: arm.unlabeledProblems },
      seed: options.seed,
    },
    reward: { lambdaVr: arm.lambdaVr, muJudge: arm.muJudge, rhoRerank: 0 },
    algorithm: arm.algorithm,
    promptsPerStep: config.promptsPerStep,
    groupSize: config.groupSize,
    minibatchSize,
    microBatchSize: Math.min(minibatchSize, 16),
    epochsPerStep: arm.algorithm === 'ppo' ? config.ppoEpochs : 1,
    learningRate: config.learningRate,
    klCoef: config.klCoef,
    sampling: { temperature: config.temperature, topP: 1, topK: 0, maxNewTokens: config.maxNewTokens },
    evalEverySteps: 0,
    maxSteps: config.steps,
    seed: options.seed,
    stepTimeoutMs: 600_000,
  };
}
