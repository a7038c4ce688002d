import type { TrainBatch } from './train-batch.js';

/** One rollout as the learner holds it: prompt, completion and per-completion-token values. */
export interface PolicySample {
  readonly promptIds: readonly number[];
  readonly completionIds: readonly number[];
  /** GRPO: one advantage for the whole sequence; PPO/GAE: one per completion token. */
  readonly advantage: number | readonly number[];
  /** log π_old per completion token (the rollout's, or recomputed by `trainer.logprobs`). */
  readonly behaviourLogprobs: readonly number[];
  readonly refLogprobs?: readonly number[];
  /** log μ of the inference engine, for the truncated IS correction. */
  readonly rolloutLogprobs?: readonly number[];
  readonly oldValues?: readonly number[];
  readonly returns?: readonly number[];
}

const PER_TOKEN = {
  behaviour_logprobs: 'behaviourLogprobs',
  ref_logprobs: 'refLogprobs',
  rollout_logprobs: 'rolloutLogprobs',
  old_values: 'oldValues',
  returns: 'returns',
} as const;

/**
 * Packs rollouts into one right-padded training batch: ids = prompt ++ completion, position t predicts
 * ids[t+1], so completion token j sits at position promptLen − 1 + j; the loss mask and every per-token
 * input are set there and zero elsewhere. Optional inputs are emitted when every sample has them.
 */
export function policyBatch(samples: readonly PolicySample[], padId = 0): TrainBatch {
  if (samples.length === 0) throw new RangeError('policyBatch: no samples');
  const B = samples.length;
  const T = Math.max(...samples.map((s) => s.promptIds.length + s.completionIds.length)) - 1;
  const n = B * T;
  const inputIds = new Int32Array(n).fill(padId);
  const attentionMask = new Int32Array(n);
  const targets = new Int32Array(n).fill(padId);
  const lossMask = new Float32Array(n);
  const advantages = new Float32Array(n);
  const present = Object.entries(PER_TOKEN).filter(([, key]) => samples.every((s) => s[key] !== undefined));
  const inputs: Record<string, Float32Array> = { advantages };
  for (const [name] of present) inputs[name] = new Float32Array(n);
  samples.forEach((s, b) => {
    const P = s.promptIds.length;
    const C = s.completionIds.length;
    if (P < 1) throw new RangeError(`policyBatch: sample ${b} has an empty prompt`);
    const lengths = [s.behaviourLogprobs.length, ...(Array.isArray(s.advantage) ? [s.advantage.length] : [])];
    for (const [, key] of present) lengths.push(s[key]!.length);
    if (lengths.some((l) => l !== C))
      throw new RangeError(
        `policyBatch: sample ${b}: per-token arrays must have ${C} entries (completion length)`,
      );
    const ids = [...s.promptIds, ...s.completionIds];
    for (let t = 0; t < ids.length - 1; t++) {
      inputIds[b * T + t] = ids[t]!;
      attentionMask[b * T + t] = 1;
      targets[b * T + t] = ids[t + 1]!;
    }
    for (let j = 0; j < C; j++) {
      const at = b * T + P - 1 + j;
      lossMask[at] = 1;
      advantages[at] = typeof s.advantage === 'number' ? s.advantage : s.advantage[j]!;
      for (const [name, key] of present) inputs[name]![at] = s[key]![j]!;
    }
  });
  return { batchSize: B, seqLen: T, inputIds, attentionMask, targets, lossMask, tokenInputs: inputs };
}

/** The completion tokens' values of a per-position [batch*seq] output (e.g. `trainer.logprobs`) for sample b. */
export function completionValues(
  batch: TrainBatch,
  values: ArrayLike<number>,
  b: number,
  promptLen: number,
  completionLen: number,
): number[] {
  const out: number[] = [];
  for (let j = 0; j < completionLen; j++) out.push(values[b * batch.seqLen + promptLen - 1 + j]!);
  return out;
}
