import { learnerV1 } from '@verdict/proto';
import { type ArmSpec, armRunId, type ExperimentConfig } from '@verdict/recipes';

/**
 * The run config of an RL arm. Labeled and unlabeled questions come from one toy source of
 * `labeled + unlabeled` problems, split by the learner's seeded `partitionLabeled` in that ratio, so
 * the two pools are disjoint and each step draws them in the same ratio. Judge-only arms mark the
 * whole source unlabeled: no gold answer reaches the run. Every seed derives from `seed`. The
 * learner's `validateRunConfig` fills the other defaults and checks the bounds. (Here, not in
 * @verdict/recipes: engine libraries do not import @verdict/proto.)
 */
export function armRunConfig(
  arm: ArmSpec,
  config: ExperimentConfig,
  options: { seed: number; studentDir: string; judgeModelId: string },
): learnerV1.RunConfig {
  if (arm.algorithm === 'sft') throw new RangeError('the SFT arm has no RL run');
  const total = arm.labeledProblems + arm.unlabeledProblems;
  const labeled = arm.labeledProblems > 0;
  const samples = config.promptsPerStep * config.groupSize;
  // Two optimizer updates per step when the batch splits evenly: more learning per rollout.
  const minibatchSize = samples % 2 === 0 && samples >= 8 ? samples / 2 : samples;
  return learnerV1.RunConfig.fromPartial({
    runId: armRunId(arm, options.seed),
    student: { checkpointUri: options.studentDir, modelId: 'toy-student' },
    judge: { modelId: options.judgeModelId },
    dataMix: [{ name: 'toy', split: 'id', labeled, limit: total }],
    labeledRatio: { labeled: arm.labeledProblems, unlabeled: arm.unlabeledProblems },
    dataSeed: options.seed,
    reward: { weights: { lambdaVr: arm.lambdaVr, muJudge: arm.muJudge, rhoRerank: 0 } },
    algorithm:
      arm.algorithm === 'ppo' ? learnerV1.Algorithm.ALGORITHM_PPO : learnerV1.Algorithm.ALGORITHM_GRPO,
    promptsPerStep: config.promptsPerStep,
    groupSize: config.groupSize,
    minibatchSize,
    microBatchSize: Math.min(minibatchSize, 16),
    epochsPerStep: arm.algorithm === 'ppo' ? config.ppoEpochs : 1,
    learningRate: config.learningRate,
    klCoef: config.klCoef,
    rolloutSampling: { temperature: config.temperature, topP: 1, topK: 0, maxNewTokens: config.maxNewTokens },
    evalEverySteps: 0,
    maxSteps: config.steps,
    seed: options.seed,
    stepTimeoutMs: 600_000,
  });
}
