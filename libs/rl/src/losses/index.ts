export { type LossAggregation, maskedAggregate, maskedMean } from './aggregate.js';
export {
  buildPolicyLoss,
  clampValue,
  klEstimate,
  type PolicyLossInputs,
  type PolicyLossOptions,
  type TruncatedIsOptions,
} from './policy-loss.js';
export { buildSftLoss, type LossGraph, type SftLossInputs, type SftLossOptions } from './sft-loss.js';
export { tokenEntropy, tokenLogprobs } from './token-logprobs.js';
export { buildValueLoss, type ValueLossInputs, type ValueLossOptions, valueHead } from './value-loss.js';
