// `@verdict/cli/stack`: the one launcher of the five services (verdict up, the experiment, the
// end-to-end tests). A subpath of its own so importing the CLI framework loads no service.
export {
  DEFAULT_HOST,
  DEFAULT_REWARD_WEIGHTS,
  evaluatorEnv,
  judgeServerEnv,
  learnerEnv,
  policyServerEnv,
  type ResolvedStackOptions,
  rewardServiceEnv,
  type ServiceEnv,
} from './service-env.js';
export { type StackMessaging, startStackMessaging } from './stack-messaging.js';
export type {
  LogLevel,
  RewardWeights,
  SkippableService,
  StackMessagingOptions,
  StackOptions,
} from './stack-options.js';
export { type Stack, type StackConfigs, stackConfigs, startStack } from './start-stack.js';
