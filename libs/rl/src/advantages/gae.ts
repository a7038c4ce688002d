/**
 * Generalised Advantage Estimation (Schulman et al. 2016, "High-Dimensional Continuous
 * Control Using Generalized Advantage Estimation", eq. 16) for one token sequence:
 *   δ_t = r_t + γ·V_{t+1} − V_t
 *   A_t = δ_t + γλ·A_{t+1}
 *   R_t = A_t + V_t                (value-function targets, "returns")
 * where V_{T} (after the last token) is 0 for a terminal sequence (EOS reached) and the
 * bootstrap value for a truncated one (max length hit): the episode continues past T and
 * its value is the critic's estimate, not 0.
 */

export interface GaeInput {
  /** Per-token rewards r_t (e.g. −β·KL_t, plus the sequence reward on the last token). */
  readonly rewards: ArrayLike<number>;
  /** Per-token values V_t from the value head, same length as rewards. */
  readonly values: ArrayLike<number>;
  /** True when the sequence ended (EOS); false when truncated. */
  readonly terminal: boolean;
  /** V_T for a truncated sequence; required when terminal is false, ignored otherwise. */
  readonly bootstrapValue?: number;
}

export interface GaeOptions {
  /** Discount γ in [0, 1]. */
  readonly gamma: number;
  /** GAE λ in [0, 1] (0 → one-step TD, 1 → Monte Carlo minus baseline). */
  readonly lambda: number;
}

export interface GaeResult {
  readonly advantages: Float64Array;
  readonly returns: Float64Array;
}

export function computeGae(input: GaeInput, options: GaeOptions): GaeResult {
  const { gamma, lambda } = options;
  if (!(gamma >= 0 && gamma <= 1)) throw new RangeError(`gamma must be in [0, 1], got ${gamma}`);
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`lambda must be in [0, 1], got ${lambda}`);
  const { rewards, values } = input;
  const length = rewards.length;
  if (values.length !== length) {
    throw new RangeError(`values length ${values.length} != rewards length ${length}`);
  }
  let nextValue: number;
  if (input.terminal) {
    nextValue = 0;
  } else {
    if (input.bootstrapValue === undefined || !Number.isFinite(input.bootstrapValue)) {
      throw new RangeError('a truncated (non-terminal) sequence needs a finite bootstrapValue');
    }
    nextValue = input.bootstrapValue;
  }
  const advantages = new Float64Array(length);
  const returns = new Float64Array(length);
  let running = 0;
  for (let t = length - 1; t >= 0; t--) {
    const r = rewards[t] as number;
    const v = values[t] as number;
    if (!Number.isFinite(r) || !Number.isFinite(v)) {
      throw new RangeError(`non-finite reward or value at token ${t}`);
    }
    const delta = r + gamma * nextValue - v;
    running = delta + gamma * lambda * running;
    advantages[t] = running;
    returns[t] = running + v;
    nextValue = v;
  }
  return { advantages, returns };
}
