export {
  createRewardServiceApp,
  REWARD_SERVICE_NAME,
  type RewardServiceApp,
  type RewardServiceDeps,
} from './app.js';
export { loadRewardServiceConfig, type RewardServiceConfig, rewardServiceConfigVariables } from './config.js';
export { rewardSettingsFor } from './domain/reward-settings.js';
export {
  type AskJudge,
  type JudgeCallOutcome,
  type RewardSettings,
  type SampleToScore,
  scoreSample,
} from './domain/score-sample.js';
export {
  generatedConsumerSpec,
  ROLLOUTS_STREAM,
  SUBJECT_ROLLOUT_GENERATED,
  SUBJECT_ROLLOUT_SCORED,
  scoredMessageId,
} from './streams.js';
