export { createLearnerApp, LEARNER_SERVICE_NAME, type LearnerApp, type LearnerDeps } from './app.js';
export { type LearnerConfig, learnerConfigSchema, loadLearnerConfig } from './config.js';
export type { StepMetricsRecord } from './domain/step-metrics.js';
export type {
  AfterStepHook,
  AfterStepInfo,
  RunController,
  RunState,
  RunStatusSnapshot,
} from './run/run-controller.js';
export { RunStore } from './run/run-store.js';
export {
  loadRunConfigFile,
  parseRunConfig,
  runConfigToJson,
  type ValidRewardConfig,
  type ValidRunConfig,
  validateRunConfig,
} from './run-config/run-config.js';
export { ROLLOUTS_STREAM, SUBJECTS, WEIGHTS_BUCKET, WEIGHTS_STREAM } from './streams.js';
export type { TrainOutcome, TrainStep } from './training/policy-trainer.js';
