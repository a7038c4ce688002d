/**
 * Per-token rewards for PPO with the KL penalty in the reward (Ziegler et al. 2019;
 * Ouyang et al. 2022): r_t = −β·KL_t for every generated token, plus the sequence reward R
 * on the last token. KL_t is a per-token estimate (k1 or k3 from `klPerToken`). The result
 * feeds `computeGae`.
 */
export interface PpoTokenRewardInput {
  /** Mixed reward of the whole completion (must not be a masked sample's null). */
  readonly sequenceReward: number;
  /** Per-token KL(π‖π_ref) estimates, one per generated token. */
  readonly klPerToken: ArrayLike<number>;
  /** β ≥ 0. */
  readonly klCoefficient: number;
}

export function shapePpoTokenRewards(input: PpoTokenRewardInput): Float64Array {
  const { sequenceReward, klPerToken, klCoefficient } = input;
  if (!Number.isFinite(sequenceReward))
    throw new RangeError(`sequenceReward must be finite, got ${sequenceReward}`);
  if (!(klCoefficient >= 0)) throw new RangeError(`klCoefficient must be >= 0, got ${klCoefficient}`);
  const length = klPerToken.length;
  if (length === 0) throw new RangeError('a completion needs at least one token to carry its reward');
  const rewards = new Float64Array(length);
  for (let t = 0; t < length; t++) rewards[t] = -klCoefficient * (klPerToken[t] as number);
  rewards[length - 1] = (rewards[length - 1] as number) + sequenceReward;
  return rewards;
}
