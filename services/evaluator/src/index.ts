export {
  createEvaluatorApp,
  EVALUATOR_SERVICE_NAME,
  type EvaluatorApp,
  type EvaluatorAppDeps,
  type NightlyOutcome,
} from './app.js';
export { argvToEnv, describeEvaluatorConfig, type EvaluatorConfig, loadEvaluatorConfig } from './config.js';
export { createPolicyGenerator, type PolicyClient, type PolicyGenerator } from './policy-generator.js';
export { createSuiteRunner, type RunSpec, type SuiteRunner, type SuiteRunOutcome } from './suite-runner.js';
