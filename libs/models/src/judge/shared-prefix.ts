import type { CausalLmConfig } from '../family/model-config.js';
import type { StepInput } from '../generate/causal-lm.js';
import { positionIdsFromMask } from '../reference/llama-reference.js';
import type { JudgeModel, JudgeScores } from './judge.js';

/**
 * Shared-prefix judging: the G samples of one GRPO question share the judge prompt up to the
 * solution (template + question). Their common token prefix is prefilled once per group (the
 * prefixes of several groups in one left-padded batch) and only each prompt's rest runs, against
 * its group's cached keys/values. The token sequence of every row is the whole prompt's, at the
 * same positions, with the same keys attended: the scores equal the whole-prompt path to float32
 * rounding (tested within 1e-5).
 */

/** A judge model that can prefill prefixes and judge suffixes against them. */
export type SharedPrefixJudgeModel = JudgeModel<CausalLmConfig> &
  Required<Pick<JudgeModel<CausalLmConfig>, 'prefillPrefixes' | 'scoreLastAfterPrefix'>>;

export function hasSharedPrefixJudging(model: JudgeModel<CausalLmConfig>): model is SharedPrefixJudgeModel {
  return typeof model.prefillPrefixes === 'function' && typeof model.scoreLastAfterPrefix === 'function';
}

/** Items (by index) whose first `prefixLen` tokens are shared. */
export interface SharedGroup {
  readonly rows: readonly number[];
  readonly prefixLen: number;
}

/** Groups judged in one prefix pass + one suffix pass; `rows` = the groups' rows in order. */
export interface SharedChunk {
  readonly rows: readonly number[];
  readonly groups: readonly SharedGroup[];
}

export interface SharedPlan {
  /** Items judged whole (singletons, no group key, groups without a long enough common prefix). */
  readonly whole: readonly number[];
  readonly chunks: readonly SharedChunk[];
}

/** Length of the longest common prefix of `rows`' token lists. */
function commonPrefixLength(encoded: readonly (readonly number[])[], rows: readonly number[]): number {
  const first = encoded[rows[0]!]!;
  let n = first.length;
  for (const r of rows) {
    const ids = encoded[r]!;
    n = Math.min(n, ids.length);
    for (let t = 0; t < n; t++) {
      if (ids[t] !== first[t]) {
        n = t;
        break;
      }
    }
  }
  return n;
}

/**
 * Splits items into those judged whole and groups sharing at least `minShared` leading tokens,
 * packed into chunks of at most `maxBatchSize` suffix rows (a larger group is cut into pieces,
 * each with its own prefix row). Every row keeps at least one token of its own after the prefix:
 * the verdict is read at the last one.
 */
export function planSharedPrefixes(
  encoded: readonly (readonly number[])[],
  groupKeys: readonly (string | undefined)[],
  limits: { readonly minShared: number; readonly maxBatchSize: number },
): SharedPlan {
  const byKey = new Map<string, number[]>();
  const whole: number[] = [];
  groupKeys.forEach((key, i) => {
    if (key === undefined || key === '') whole.push(i);
    else byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  const shared: SharedGroup[] = [];
  for (const rows of byKey.values()) {
    for (let at = 0; at < rows.length; at += limits.maxBatchSize) {
      const piece = rows.slice(at, at + limits.maxBatchSize);
      const shortest = Math.min(...piece.map((r) => encoded[r]!.length));
      const prefixLen = piece.length < 2 ? 0 : Math.min(commonPrefixLength(encoded, piece), shortest - 1);
      if (prefixLen >= limits.minShared) shared.push({ rows: piece, prefixLen });
      else whole.push(...piece);
    }
  }
  whole.sort((a, b) => a - b);
  const chunks: SharedChunk[] = [];
  let groups: SharedGroup[] = [];
  let size = 0;
  for (const group of shared) {
    if (size + group.rows.length > limits.maxBatchSize && groups.length > 0) {
      chunks.push({ rows: groups.flatMap((g) => g.rows), groups });
      groups = [];
      size = 0;
    }
    groups.push(group);
    size += group.rows.length;
  }
  if (groups.length > 0) chunks.push({ rows: groups.flatMap((g) => g.rows), groups });
  return { whole, chunks };
}

/**
 * One chunk: its groups' prefixes in one left-padded prefix pass, then every row's suffix,
 * left-padded too, after its group's prefix row. A suffix row's mask is [its prefix row's mask |
 * suffix padding 0s | 1s], so the padding between a prefix and a suffix is attended by no one, and
 * the suffix's positions continue its own prefix's (prefixLen + j), as in the whole prompt. Scores
 * come back in `chunk.rows` order.
 */
export async function judgeSharedChunk(
  model: SharedPrefixJudgeModel,
  encoded: readonly (readonly number[])[],
  chunk: SharedChunk,
  padId: number,
  tokenIds: readonly number[],
): Promise<JudgeScores> {
  const { groups } = chunk;
  const P = Math.max(...groups.map((g) => g.prefixLen));
  const prefixMasks = groups.map((g) => [
    ...Array<number>(P - g.prefixLen).fill(0),
    ...Array<number>(g.prefixLen).fill(1),
  ]);
  const prefixInput: StepInput = {
    batchSize: groups.length,
    seqLen: P,
    inputIds: groups.flatMap((g) => [
      ...Array<number>(P - g.prefixLen).fill(padId),
      ...encoded[g.rows[0]!]!.slice(0, g.prefixLen),
    ]),
    attentionMask: prefixMasks.flat(),
    positionIds: prefixMasks.flatMap((m) => positionIdsFromMask(m)),
  };
  const prefix = await model.prefillPrefixes(prefixInput);
  const S = Math.max(...groups.flatMap((g) => g.rows.map((r) => encoded[r]!.length - g.prefixLen)));
  const inputIds: number[] = [];
  const attentionMask: number[] = [];
  const positionIds: number[] = [];
  const prefixRows: number[] = [];
  groups.forEach((g, gi) => {
    for (const r of g.rows) {
      const suffix = encoded[r]!.slice(g.prefixLen);
      const pad = S - suffix.length;
      inputIds.push(...Array<number>(pad).fill(padId), ...suffix);
      attentionMask.push(
        ...prefixMasks[gi]!,
        ...Array<number>(pad).fill(0),
        ...Array<number>(suffix.length).fill(1),
      );
      positionIds.push(...Array<number>(pad).fill(g.prefixLen), ...suffix.map((_, j) => g.prefixLen + j));
      prefixRows.push(gi);
    }
  });
  const input: StepInput = { batchSize: chunk.rows.length, seqLen: S, inputIds, attentionMask, positionIds };
  return model.scoreLastAfterPrefix(input, prefix, prefixRows, tokenIds);
}
