// The worker's sessions run on an execution provider; a service resolves and reports it through
// these, so it needs no @verdict/graph import of its own (the learner builds no graphs).
export {
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type ExecutionProviderInfo,
  ExecutionProviderUnavailableError,
  formatExecutionProvider,
  probeExecutionProvider,
  resolveExecutionProvider,
} from '@verdict/graph';
export {
  createPolicyWorker,
  type PolicyWorker,
  type ScoreResult,
  type TokenBatch,
  type UpdateMicroBatch,
  type UpdateResult,
} from './policy-worker.js';
export { buildScoringGraph } from './scoring-graph.js';
export {
  type PolicyWorkerConfig,
  type PolicyWorkerOptions,
  PolicyWorkerOptionsError,
  resolvePolicyWorkerOptions,
} from './worker-options.js';
