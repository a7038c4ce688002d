export {
  createJudgeServerApp,
  JUDGE_SERVICE_NAME,
  type JudgeServerApp,
  type JudgeServerDeps,
  type JudgeServerStats,
} from './app.js';
export { type JudgeServerConfig, judgeServerConfigVariables, loadJudgeServerConfig } from './config.js';
export {
  type BatchReport,
  createDynamicBatcher,
  type DynamicBatcher,
  type ItemOutcome,
  QueueFullError,
} from './domain/dynamic-batcher.js';
