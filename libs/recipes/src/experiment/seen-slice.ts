import { comparePaired, type PairedComparison } from '@verdict/data';
import { COMPARISON_METHOD } from './arm-comparisons.js';
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

function meanOverRuns(rows: readonly (readonly number[])[]): number[] | undefined {
  const n = rows[0]?.length;
  if (n === undefined || rows.some((r) => r.length !== n)) return undefined;
  return Array.from({ length: n }, (_, i) => rows.reduce((a, r) => a + r[i]!, 0) / rows.length);
}

/** Every RL arm against SFT on the seen slice (and the same arm's fresh in-domain greedy beside it). */
export function compareSeenSlice(arms: readonly ArmSpec[], runs: readonly ArmSeedResult[]): SeenComparison[] {
  const sft = runs.filter((r) => r.armId === 'sft' && r.seen !== undefined);
  const out: SeenComparison[] = [];
  for (const arm of arms) {
    if (arm.id === 'sft') continue;
    const mine = runs.filter((r) => r.armId === arm.id && r.seen !== undefined);
    const seeds = mine.map((r) => r.seed).filter((s) => sft.some((b) => b.seed === s));
    if (seeds.length === 0) continue;
    const pick = (rs: readonly ArmSeedResult[]) => seeds.map((s) => rs.find((r) => r.seed === s)!);
    const a = meanOverRuns(pick(mine).map((r) => r.seen!.problems));
    const b = meanOverRuns(pick(sft).map((r) => r.seen!.problems));
    if (a === undefined || b === undefined || a.length !== b.length) continue;
    const options = (what: string) => ({
      level: COMPARISON_METHOD.level,
      resamples: COMPARISON_METHOD.resamples,
      seed: `${arm.id}|sft|${what}|${seeds.join(',')}`,
    });
    const freshA = meanOverRuns(pick(mine).map((r) => r.eval.id.problems?.greedy ?? []));
    const freshB = meanOverRuns(pick(sft).map((r) => r.eval.id.problems?.greedy ?? []));
    const fresh =
      freshA !== undefined && freshB !== undefined && freshA.length > 0 && freshA.length === freshB.length
        ? comparePaired(freshA, freshB, options('fresh'))
        : undefined;
    out.push({ armId: arm.id, seeds, seen: comparePaired(a, b, options('seen')), fresh });
  }
  return out;
}
