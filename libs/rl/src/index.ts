export type { GaeInput, GaeOptions, GaeResult } from './advantages/gae.js';
export { computeGae } from './advantages/gae.js';
export type { GroupAdvantages, GrpoAdvantageOptions } from './advantages/grpo-advantages.js';
export {
  advantagesToLossInputs,
  computeGroupAdvantages,
  computeGrpoAdvantages,
} from './advantages/grpo-advantages.js';
export type { WhitenOptions } from './advantages/whiten.js';
export { whiten } from './advantages/whiten.js';
