import type { Tolerance } from '../answer/check-answer.js';
import { answersEqual } from '../answer/check-answer.js';
import { type ExtractionMode, extractAnswer, extractionValue } from '../answer/extract.js';
import { majAtK } from './maj-at-k.js';
import type { SampledItem } from './score.js';

/**
 * One problem's result, in the suite's order: what two arms evaluated on the same problems are
 * paired on (greedy 0/1 for McNemar, the sample fractions for the paired bootstrap / t).
 */
export interface ProblemOutcome {
  readonly id: string;
  readonly greedyCorrect: boolean;
  /** Samples drawn (0 when greedy only). */
  readonly samples: number;
  /** Of those, the correct ones: mean@k of this problem = samplesCorrect / samples. */
  readonly samplesCorrect: number;
  /** Unbiased maj@k credit of this problem in [0, 1]; null when greedy only. */
  readonly majAtK: number | null;
}

export interface OutcomeOptions {
  /** Extraction mode; default flexible (the evaluator's wire numbers). */
  readonly mode?: ExtractionMode;
  /** k for maj@k (≤ samples per item); default = the item's sample count. */
  readonly k?: number;
  readonly tolerance?: Tolerance;
}

/** Per-problem outcomes of scored items; their means are `scoreItems`' accuracy, mean@k and maj@k. */
export function problemOutcomes(
  items: readonly SampledItem[],
  options: OutcomeOptions = {},
): ProblemOutcome[] {
  const mode = options.mode ?? 'flexible';
  const tolerance = options.tolerance ?? {};
  return items.map((item) => {
    const votes = (item.samples ?? []).map((s) => extractionValue(extractAnswer(s, mode)));
    const k = options.k ?? votes.length;
    return {
      id: item.id,
      greedyCorrect: answersEqual(extractionValue(extractAnswer(item.greedy, mode)), item.gold, tolerance),
      samples: votes.length,
      samplesCorrect: votes.filter((v) => answersEqual(v, item.gold, tolerance)).length,
      majAtK: votes.length === 0 ? null : majAtK(votes, item.gold, k, tolerance),
    };
  });
}
