export {
  createPolicyApp,
  POLICY_SERVICE_NAME,
  type PolicyApp,
  type PolicyAppDeps,
  type PolicyHealth,
} from './app.js';
export { loadPolicyConfig, type PolicyConfig, policyConfigSchema } from './config.js';
export { ROLLOUTS_STREAM, SUBJECTS, WEIGHTS_BUCKET, WEIGHTS_STREAM } from './streams.js';
export type { WeightsEvent } from './weights/hot-swap.js';
