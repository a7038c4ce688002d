export type { GaeInput, GaeOptions, GaeResult } from './advantages/gae.js';
export { computeGae } from './advantages/gae.js';
export type { GroupAdvantages, GrpoAdvantageOptions } from './advantages/grpo-advantages.js';
export {
  advantagesToLossInputs,
  computeGroupAdvantages,
  computeGrpoAdvantages,
} from './advantages/grpo-advantages.js';
export type { WhitenOptions } from './advantages/whiten.js';
export { whiten } from './advantages/whiten.js';
export type { AgreementResult } from './judge/agreement.js';
export { judgeAgreement } from './judge/agreement.js';
export { auroc } from './judge/auroc.js';
export type { CalibrationBin, CalibrationResult } from './judge/calibration.js';
export { brierScore, expectedCalibrationError } from './judge/calibration.js';
export { leastSquaresSlope } from './judge/linear-trend.js';
export type {
  RewardHackingDetector,
  RewardHackingDetectorConfig,
  RewardHackingVerdict,
  TrainingHealthObservation,
} from './judge/reward-hacking-detector.js';
export { createRewardHackingDetector } from './judge/reward-hacking-detector.js';
export type { PlannedTerm } from './rewards/reward-mix.js';
export {
  assertRewardMixConfig,
  mixRewardComponents,
  planRewardTerms,
  validateRewardMixConfig,
} from './rewards/reward-mix.js';
export type { RewardSample, RewardScorer, RewardScorers } from './rewards/reward-scorer.js';
export { createRewardScorer } from './rewards/reward-scorer.js';
export type {
  MixedReward,
  QuestionSource,
  RewardComponent,
  RewardMixConfig,
  RewardStatus,
  RewardTerm,
  RewardWeights,
} from './rewards/reward-types.js';
export { REWARD_TERMS } from './rewards/reward-types.js';
