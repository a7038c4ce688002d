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
