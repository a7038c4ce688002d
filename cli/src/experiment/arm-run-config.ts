import { learnerV1, rewardV1 } from '@verdict/proto';
import { type ArmSpec, armRunId, type ExperimentConfig } from '@verdict/recipes';

/**
 * The run config of an RL arm. Labeled and unlabeled questions come from one toy source of
 * `labeled + unlabeled` problems, split by the learner's seeded `partitionLabeled` in that ratio, so
 * the two pools are disjoint and each step draws them in the same ratio. Judge-only arms mark the
 * whole source unlabeled: no gold answer reaches the run. Every seed derives from `seed`. The
 * learner's `validateRunConfig` fills the other defaults and checks the bounds. (Here, not in
 * @verdict/recipes: engine libraries do not import @verdict/proto.)
 */
const LR_DECAY = {
  constant: learnerV1.LrDecay.LR_DECAY_CONSTANT,
  linear: learnerV1.LrDecay.LR_DECAY_LINEAR,
  cosine: learnerV1.LrDecay.LR_DECAY_COSINE,
} as const;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lowestTerms(labeled: number, unlabeled: number): { labeled: number; unlabeled: number } {
  const d = gcd(labeled, unlabeled) || 1;
  return { labeled: labeled / d, unlabeled: unlabeled / d };
}

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
    // In lowest terms (the learner bounds each side at 1000): 512:2048 is the same split as 1:4.
    labeledRatio: lowestTerms(arm.labeledProblems, arm.unlabeledProblems),
    dataSeed: options.seed,
    reward: {
      weights: { lambdaVr: arm.lambdaVr, muJudge: arm.muJudge, rhoRerank: arm.rhoRerank ?? 0 },
      verifiableCheck:
        arm.verifiableCheck === 'answer-and-arithmetic'
          ? rewardV1.VerifiableCheck.VERIFIABLE_CHECK_ANSWER_AND_ARITHMETIC
          : rewardV1.VerifiableCheck.VERIFIABLE_CHECK_UNSPECIFIED,
    },
    algorithm:
      arm.algorithm === 'ppo' ? learnerV1.Algorithm.ALGORITHM_PPO : learnerV1.Algorithm.ALGORITHM_GRPO,
    promptsPerStep: config.promptsPerStep,
    groupSize: config.groupSize,
    minibatchSize,
    microBatchSize: Math.min(minibatchSize, 16),
    epochsPerStep: arm.algorithm === 'ppo' ? config.ppoEpochs : 1,
    learningRate: config.learningRate,
    warmupSteps: config.warmupSteps,
    lrDecay: LR_DECAY[config.lrDecay],
    minLrRatio: 0,
    klCoef: config.klCoef,
    // Dynamic sampling is GRPO's (the learner refuses it for PPO).
    dynamicSampling: config.dynamicSampling && arm.algorithm === 'grpo',
    rolloutSampling: { temperature: config.temperature, topP: 1, topK: 0, maxNewTokens: config.maxNewTokens },
    evalEverySteps: 0,
    maxSteps: config.steps,
    seed: options.seed,
    stepTimeoutMs: 600_000,
  });
}
