export type {
  AdvantageEstimator,
  GaeAdvantageInput,
  GaeOutput,
  GaeSequence,
  GrpoInput,
  GrpoOutput,
} from './advantages/compute-advantages.js';
export { computeAdvantages, informativeGroups } from './advantages/compute-advantages.js';
export type { GaeInput, GaeOptions, GaeResult } from './advantages/gae.js';
export { computeGae } from './advantages/gae.js';
export type { GroupAdvantages, GrpoAdvantageOptions } from './advantages/grpo-advantages.js';
export {
  advantagesToLossInputs,
  computeGroupAdvantages,
  computeGrpoAdvantages,
} from './advantages/grpo-advantages.js';
export type { PpoTokenRewardInput } from './advantages/ppo-token-rewards.js';
export { shapePpoTokenRewards } from './advantages/ppo-token-rewards.js';
export type { WhitenOptions } from './advantages/whiten.js';
export { whiten } from './advantages/whiten.js';
export type { AgreementResult } from './judge/agreement.js';
export { judgeAgreement } from './judge/agreement.js';
export { auroc } from './judge/auroc.js';
export type { CalibrationBin, CalibrationResult } from './judge/calibration.js';
export { brierScore, expectedCalibrationError } from './judge/calibration.js';
export { leastSquaresSlope } from './judge/linear-trend.js';
export * from './judge-calibration.js';
export type {
  RolloutMismatchStats,
  SequenceImportanceWeight,
  TruncatedImportanceOptions,
} from './kl/importance-weights.js';
export { rolloutMismatchStats, sequenceImportanceWeight } from './kl/importance-weights.js';
export type { KlEstimator, KlSummary } from './kl/kl-estimators.js';
export { klPerToken, klTerm, meanKl } from './kl/kl-estimators.js';
export * from './losses/index.js';
export type {
  RewardHackingMonitorConfig,
  RewardHackingMonitorOptions,
  TrendMethod,
} from './monitor/monitor-config.js';
export {
  REWARD_HACKING_MONITOR_DEFAULTS,
  resolveRewardHackingMonitorConfig,
  TREND_METHODS,
  validateRewardHackingMonitorConfig,
} from './monitor/monitor-config.js';
export type {
  MonitorSeriesState,
  RewardHackingMonitor,
  RewardHackingMonitorSnapshot,
  RewardHackingObservation,
  RewardHackingVerdict,
} from './monitor/reward-hacking-monitor.js';
export {
  createRewardHackingMonitor,
  REWARD_HACKING_MONITOR_FORMAT,
} from './monitor/reward-hacking-monitor.js';
export type { AdamW, AdamWConfig, AdamWState, AdamWStateMeta } from './optim/adamw.js';
export { ADAMW_STATE_FORMAT, createAdamW } from './optim/adamw.js';
export { clipGradNorm, globalGradNorm } from './optim/clip-grad-norm.js';
export type { GradAccumulator } from './optim/grad-accumulator.js';
export { createGradAccumulator } from './optim/grad-accumulator.js';
export type { LrSchedule, LrScheduleConfig } from './optim/lr-schedule.js';
export { createLrSchedule } from './optim/lr-schedule.js';
export { isDefaultNoDecayParam } from './optim/no-decay.js';
export type { ParamMap } from './optim/param-map.js';
export { assertSameLayout, cloneParamMap } from './optim/param-map.js';
export { rewardsForAdvantages } from './rewards/group-rewards.js';
export type { MixOptions, PlannedTerm } from './rewards/reward-mix.js';
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
export * from './training/index.js';
export * from './worker/index.js';
