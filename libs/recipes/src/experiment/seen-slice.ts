import { comparePaired, type PairedComparison } from '@verdict/data';
import { type ArmComparison, COMPARISON_METHOD, meanPerProblem } from './arm-comparisons.js';
import type { ArmSpec } from './arms.js';
import type { ArmSeedResult } from './results.js';

/**
 * Greedy scores on the first problems of the arm's own training stream (the toy source the learner
 * draws from with `dataSeed = seed`): questions the RL arms trained on, several times each at the
 * preset's pool size. Beside the fresh in-domain suite it separates learning that transfers from
 * learning the training questions.
 */
export interface SeenSliceScore {
  readonly n: number;
  readonly greedy: number;
  /** Per-problem greedy correctness (0/1) in stream order. */
  readonly problems: readonly number[];
}

/** Arm − SFT on the seen slice and on the fresh in-domain suite (greedy), paired, seeds pooled. */
export interface SeenComparison {
  readonly armId: string;
  readonly seeds: readonly number[];
  readonly seen: PairedComparison;
  readonly fresh: PairedComparison | undefined;
}

/**
 * Every RL arm against SFT on the seen slice, and beside it the same arm − SFT on fresh in-domain
 * greedy as `compareArms` computed it (the paired table's own cell, over the same seeds).
 */
export function compareSeenSlice(
  arms: readonly ArmSpec[],
  runs: readonly ArmSeedResult[],
  comparisons: readonly ArmComparison[],
): SeenComparison[] {
  const sft = runs.filter((r) => r.armId === 'sft' && r.seen !== undefined);
  const out: SeenComparison[] = [];
  for (const arm of arms) {
    if (arm.id === 'sft') continue;
    const mine = runs.filter((r) => r.armId === arm.id && r.seen !== undefined);
    const seeds = mine.map((r) => r.seed).filter((s) => sft.some((b) => b.seed === s));
    if (seeds.length === 0) continue;
    const pick = (rs: readonly ArmSeedResult[]) =>
      seeds.map((s) => rs.find((r) => r.seed === s)!.seen!.problems);
    const a = meanPerProblem(pick(mine));
    const b = meanPerProblem(pick(sft));
    if (a === undefined || b === undefined || a.length !== b.length) continue;
    const seen = comparePaired(a, b, {
      level: COMPARISON_METHOD.level,
      resamples: COMPARISON_METHOD.resamples,
      seed: `${arm.id}|sft|seen|${seeds.join(',')}`,
    });
    const fresh = comparisons.find(
      (c) =>
        c.armId === arm.id &&
        c.baselineId === 'sft' &&
        c.suite === 'id' &&
        c.metric === 'greedy' &&
        c.seeds.join(',') === seeds.join(','),
    );
    out.push({ armId: arm.id, seeds, seen, fresh });
  }
  return out;
}
