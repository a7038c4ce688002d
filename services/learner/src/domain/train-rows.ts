import { computeAdvantages } from '@verdict/rl';
import type { SampleGroup, ScoredSample } from './scored-sample.js';

/** One trainable sample: token ids plus its sequence advantage. */
export interface TrainRow {
  readonly sample: ScoredSample;
  readonly advantage: number;
}

/**
 * A right-padded micro-batch in the training graph's layout ([B, T], position t predicts t+1), with
 * the per-token float inputs laid out the same way. `completionIndex[b*T+t]` is the index of the
 * completion token predicted at that position (−1 elsewhere), to map rollout log-probs in and out.
 */
export interface RowBatch {
  readonly batchSize: number;
  readonly seqLen: number;
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly targets: Int32Array;
  readonly lossMask: Float32Array;
  readonly advantages: Float32Array;
  readonly rolloutLogprobs: Float32Array;
  readonly completionIndex: Int32Array;
  readonly rows: readonly TrainRow[];
}

export interface AdvantageSummary {
  readonly rows: TrainRow[];
  /** Groups whose OK rewards were all equal (no learning signal). */
  readonly zeroVarianceGroups: number;
  /** Of those, the groups left out of the batch (`dropZeroVariance`). */
  readonly droppedGroups: number;
}

/**
 * GRPO advantages per group (`computeAdvantages('grpo')`; masked = non-OK samples are null: out of
 * mean/std and out of the batch, never a 0 reward), flattened to the OK samples in group order.
 * With `dropZeroVariance` the groups whose rewards all agree stay out of the batch too, so the
 * token-mean runs over the informative samples only.
 */
export function grpoRows(
  groups: readonly SampleGroup[],
  options: { readonly dropZeroVariance?: boolean } = {},
): AdvantageSummary {
  const out = computeAdvantages('grpo', {
    groups: groups.map((g) => g.samples.map((s) => (s.status === 'OK' ? s.total : null))),
    options,
  });
  const rows: TrainRow[] = [];
  groups.forEach((g, k) => {
    g.samples.forEach((sample, i) => {
      const advantage = out.advantages[k]![i];
      if (advantage !== null && advantage !== undefined) rows.push({ sample, advantage });
    });
  });
  return { rows, zeroVarianceGroups: out.zeroVarianceGroups, droppedGroups: out.droppedGroups };
}

/** PPO: every OK sample (advantages come later, per token, from GAE); masked samples stay out. */
export function okRows(groups: readonly SampleGroup[]): AdvantageSummary {
  const rows = groups.flatMap((g) =>
    g.samples.filter((s) => s.status === 'OK').map((sample) => ({ sample, advantage: 0 })),
  );
  return { rows, zeroVarianceGroups: 0, droppedGroups: 0 };
}

/** Packs rows into one right-padded batch; the loss mask covers exactly the completion tokens. */
export function packRows(rows: readonly TrainRow[]): RowBatch {
  if (rows.length === 0) throw new RangeError('packRows needs at least one row');
  const lengths = rows.map((r) => r.sample.promptIds.length + r.sample.completionIds.length);
  const T = Math.max(2, ...lengths) - 1;
  const B = rows.length;
  const n = B * T;
  const inputIds = new Int32Array(n);
  const attentionMask = new Int32Array(n);
  const targets = new Int32Array(n);
  const lossMask = new Float32Array(n);
  const advantages = new Float32Array(n);
  const rolloutLogprobs = new Float32Array(n);
  const completionIndex = new Int32Array(n).fill(-1);
  rows.forEach((row, b) => {
    const ids = [...row.sample.promptIds, ...row.sample.completionIds];
    const promptLen = row.sample.promptIds.length;
    for (let t = 0; t < T && t + 1 < ids.length; t++) {
      const i = b * T + t;
      inputIds[i] = ids[t]!;
      attentionMask[i] = 1;
      targets[i] = ids[t + 1]!;
      const c = t + 1 - promptLen;
      if (c >= 0) {
        lossMask[i] = 1;
        advantages[i] = row.advantage;
        rolloutLogprobs[i] = row.sample.rolloutLogprobs[c] ?? 0;
        completionIndex[i] = c;
      }
    }
  });
  return {
    batchSize: B,
    seqLen: T,
    inputIds,
    attentionMask,
    targets,
    lossMask,
    advantages,
    rolloutLogprobs,
    completionIndex,
    rows,
  };
}

/** Splits rows into chunks of `size` (the last may be shorter). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
