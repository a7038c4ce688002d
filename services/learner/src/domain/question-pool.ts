import { createRng, type Problem, partitionLabeled, type UnlabeledProblem } from '@verdict/data';

/** A question as the learner poses it: unlabeled ones carry no gold at all (not even undefined-by-accident). */
export type PosedQuestion =
  | { readonly labeled: true; readonly id: string; readonly question: string; readonly gold: string }
  | { readonly labeled: false; readonly id: string; readonly question: string };

export interface QuestionPool {
  readonly labeledCount: number;
  readonly unlabeledCount: number;
  /**
   * The questions of one step: a pure function of (seed, step, round), so a resumed step asks the
   * same. Round 0 is the step's batch; rounds ≥ 1 are the extra draws of dynamic sampling.
   */
  questionsForStep(step: number, round?: number): PosedQuestion[];
}

export interface QuestionPoolOptions {
  /** Problems whose gold may be used, split by the ratio with `partitionLabeled`. */
  readonly problems: readonly Problem[];
  /** Problems from sources configured unlabeled (their answers are dropped here). */
  readonly unlabeledOnly?: readonly UnlabeledProblem[];
  readonly ratio: { readonly labeled: number; readonly unlabeled: number };
  readonly promptsPerStep: number;
  readonly seed: number;
}

/** How many of `n` questions are labeled for a labeled:unlabeled ratio (largest-remainder rounding). */
export function labeledShare(n: number, ratio: { labeled: number; unlabeled: number }): number {
  const total = ratio.labeled + ratio.unlabeled;
  if (total <= 0) throw new RangeError('ratio labeled + unlabeled must be > 0');
  return Math.round((n * ratio.labeled) / total);
}

/**
 * The run's training questions. The pool is partitioned once (seeded) into labeled and unlabeled
 * parts in the configured ratio; each step draws `promptsPerStep` questions in that ratio, with
 * replacement across steps and without within a step, from an RNG seeded by (seed, step).
 */
export function createQuestionPool(options: QuestionPoolOptions): QuestionPool {
  const { ratio, promptsPerStep, seed } = options;
  const share = ratio.labeled / (ratio.labeled + ratio.unlabeled);
  const { labeled, unlabeled } = partitionLabeled(options.problems, { labeledRatio: share, seed });
  const unlabeledAll = [...unlabeled, ...(options.unlabeledOnly ?? [])];
  let nLabeled = labeledShare(promptsPerStep, ratio);
  if (labeled.length === 0) nLabeled = 0;
  if (unlabeledAll.length === 0) nLabeled = promptsPerStep;
  if (nLabeled > 0 && labeled.length === 0) throw new RangeError('no labeled questions in the data mix');
  if (nLabeled < promptsPerStep && unlabeledAll.length === 0)
    throw new RangeError('no unlabeled questions in the data mix');

  const pick = <T>(items: readonly T[], count: number, rng: ReturnType<typeof createRng>): T[] => {
    if (count <= items.length) return rng.shuffle(items).slice(0, count);
    return Array.from({ length: count }, () => rng.pick(items));
  };

  return {
    labeledCount: labeled.length,
    unlabeledCount: unlabeledAll.length,
    questionsForStep(step, round = 0) {
      const rng = createRng(round === 0 ? `${seed}:step:${step}` : `${seed}:step:${step}:round:${round}`);
      const out: PosedQuestion[] = [];
      for (const p of pick(labeled, nLabeled, rng)) {
        out.push({ labeled: true, id: p.id, question: p.question, gold: p.answerText });
      }
      for (const p of pick(unlabeledAll, promptsPerStep - nLabeled, rng)) {
        out.push({ labeled: false, id: p.id, question: p.question });
      }
      return out;
    },
  };
}
