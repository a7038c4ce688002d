export {
  loadTrainingCheckpoint,
  type SaveCheckpointOptions,
  saveTrainingCheckpoint,
  TRAINER_STATE_FORMAT,
  type TrainingCheckpoint,
} from './checkpoint.js';
export { completionValues, type PolicySample, policyBatch } from './policy-batch.js';
export {
  createReferencePolicy,
  type ReferencePolicy,
  type ReferencePolicyOptions,
} from './reference-policy.js';
export * from './sft/index.js';
export { batchFeeds, positionIdsFor, type TrainBatch } from './train-batch.js';
export {
  createTrainer,
  type MicroBatchResult,
  type StepResult,
  type Trainer,
  type TrainerOptions,
} from './trainer.js';
export {
  buildLogprobGraph,
  buildTrainingGraph,
  lossInputNames,
  type TrainingGraph,
  type TrainingLossSpec,
  VALUE_HEAD_BIAS,
  VALUE_HEAD_WEIGHT,
} from './training-graph.js';
