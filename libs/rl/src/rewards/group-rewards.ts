import type { MixedReward } from './reward-types.js';

/**
 * The reward column for `computeGroupAdvantages`: the mixed reward, or null for a masked
 * sample so it is excluded from the group statistics and the loss.
 */
export function rewardsForAdvantages(mixed: readonly MixedReward[]): (number | null)[] {
  return mixed.map((m) => (m.masked ? null : m.reward));
}
