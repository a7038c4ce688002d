import { klTerm } from '../kl/kl-estimators.js';
import { computeGae } from './gae.js';
import { computeGroupAdvantages, type GrpoAdvantageOptions } from './grpo-advantages.js';
import { shapePpoTokenRewards } from './ppo-token-rewards.js';
import { whiten } from './whiten.js';

export type AdvantageEstimator = 'grpo' | 'gae';

export interface GrpoInput {
  /** One reward list per group (question); `null` = a masked sample (out of mean/std, advantage null). */
  readonly groups: readonly (readonly (number | null)[])[];
  readonly options?: GrpoAdvantageOptions & {
    /**
     * Drop groups whose rewards all agree (zero variance: every advantage 0, no signal): their
     * samples get `null`, so they stay out of the batch and out of the token-mean's denominator.
     * Default false (they train with advantage 0, diluting the token-mean, as before).
     */
    readonly dropZeroVariance?: boolean;
  };
}

export interface GrpoOutput {
  /** Per group, per sample: the advantage, or null (masked sample, or a dropped group). */
  readonly advantages: (number | null)[][];
  /** Groups whose unmasked rewards all agree (or fewer than two). */
  readonly zeroVarianceGroups: number;
  /** Of those, how many were dropped (`dropZeroVariance`). */
  readonly droppedGroups: number;
}

/** One completion of a PPO step, per generated token. */
export interface GaeSequence {
  /** The completion's (mixed) sequence reward, added on its last token. */
  readonly reward: number;
  /** log π_old of each generated token (from `score`). */
  readonly logprobs: ArrayLike<number>;
  /** log π_ref of each token; required when `klCoef` > 0. */
  readonly refLogprobs?: ArrayLike<number>;
  /** V_t of each token (from `score` with a value head). */
  readonly values: ArrayLike<number>;
  /** EOS reached (V after the end is 0) vs truncated (bootstraps with its last value). */
  readonly terminal: boolean;
}

export interface GaeAdvantageInput {
  readonly sequences: readonly GaeSequence[];
  readonly options: {
    readonly gamma: number;
    readonly lambda: number;
    /** β of the KL in the token rewards (−β·KL_t). Default 0. */
    readonly klCoef?: number;
    /** Per-token KL estimate of the shaped reward. Default 'k1' (log π − log π_ref, as TRL/Ziegler). */
    readonly klEstimator?: 'k1' | 'k3';
    /** Whiten the advantages over every token of the step (TRL/verl). Default true. */
    readonly whiten?: boolean;
  };
}

export interface GaeOutput {
  /** Per sequence, per token. */
  readonly advantages: Float64Array[];
  /** GAE returns R_t = A_t + V_t (the value targets; never whitened). */
  readonly returns: Float64Array[];
}

/**
 * The one advantage entry point.
 * - 'grpo': group-normalised sequence advantages (`computeGroupAdvantages` per group), optionally
 *   dropping zero-variance groups.
 * - 'gae': PPO with the KL in the reward (Ziegler et al. 2019): r_t = −β·KL_t, plus the sequence
 *   reward on the last token; GAE with the value head; advantages whitened over the step's tokens.
 */
export function computeAdvantages(estimator: 'grpo', input: GrpoInput): GrpoOutput;
export function computeAdvantages(estimator: 'gae', input: GaeAdvantageInput): GaeOutput;
export function computeAdvantages(
  estimator: AdvantageEstimator,
  input: GrpoInput | GaeAdvantageInput,
): GrpoOutput | GaeOutput {
  if (estimator === 'grpo') return grpo(input as GrpoInput);
  if (estimator === 'gae') return gae(input as GaeAdvantageInput);
  throw new RangeError(`computeAdvantages: estimator must be 'grpo' or 'gae', got ${String(estimator)}`);
}

function grpo({ groups, options = {} }: GrpoInput): GrpoOutput {
  const { dropZeroVariance = false, ...groupOptions } = options;
  let zeroVarianceGroups = 0;
  let droppedGroups = 0;
  const advantages = groups.map((rewards) => {
    const adv = computeGroupAdvantages(rewards, groupOptions);
    if (!adv.zeroVariance) return adv.advantages;
    zeroVarianceGroups++;
    if (!dropZeroVariance) return adv.advantages;
    droppedGroups++;
    return adv.advantages.map(() => null);
  });
  return { advantages, zeroVarianceGroups, droppedGroups };
}

function gae({ sequences, options }: GaeAdvantageInput): GaeOutput {
  const klCoef = options.klCoef ?? 0;
  const estimator = options.klEstimator ?? 'k1';
  const raw: Float64Array[] = [];
  const returns: Float64Array[] = [];
  sequences.forEach((s, i) => {
    const n = s.logprobs.length;
    if (s.values.length !== n)
      throw new RangeError(`gae: sequences[${i}].values has ${s.values.length} tokens, logprobs ${n}`);
    if (klCoef > 0 && (s.refLogprobs === undefined || s.refLogprobs.length !== n))
      throw new RangeError(`gae: sequences[${i}].refLogprobs must hold ${n} tokens when klCoef > 0`);
    const kl = new Float64Array(n);
    if (klCoef > 0) for (let t = 0; t < n; t++) kl[t] = klTerm(estimator, s.logprobs[t]!, s.refLogprobs![t]!);
    const rewards = shapePpoTokenRewards({ sequenceReward: s.reward, klPerToken: kl, klCoefficient: klCoef });
    // A truncated completion bootstraps with its last value (V of the next state is not computed).
    const r = computeGae(
      { rewards, values: s.values, terminal: s.terminal, bootstrapValue: s.values[n - 1]! },
      { gamma: options.gamma, lambda: options.lambda },
    );
    raw.push(r.advantages);
    returns.push(r.returns);
  });
  if (options.whiten === false) return { advantages: raw, returns };
  // Whiten over every completion token of the step at once.
  const flat = new Float64Array(raw.reduce((a, x) => a + x.length, 0));
  let off = 0;
  for (const a of raw) {
    flat.set(a, off);
    off += a.length;
  }
  const white = whiten(flat);
  off = 0;
  const advantages = raw.map((a) => {
    const out = white.slice(off, off + a.length);
    off += a.length;
    return out;
  });
  return { advantages, returns };
}

/**
 * Dynamic-sampling filter (DAPO): keeps the groups whose unmasked rewards do not all agree (at least
 * two, not all equal) and counts the rest, so the caller can draw more prompts until it has its
 * quota of informative groups.
 */
export function informativeGroups<G>(
  groups: readonly G[],
  rewardsOf: (group: G) => readonly (number | null)[],
): { readonly informative: G[]; readonly dropped: number } {
  const informative = groups.filter((g) => !computeGroupAdvantages(rewardsOf(g)).zeroVariance);
  return { informative, dropped: groups.length - informative.length };
}
