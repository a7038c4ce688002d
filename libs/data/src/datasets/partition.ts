import { createRng } from '../prng.js';
import { type Problem, toUnlabeled, type UnlabeledProblem } from '../problem.js';

export interface PartitionOptions {
  /** Share of problems that keep their answers, in [0, 1]. */
  readonly labeledRatio: number;
  readonly seed: number | string;
}

export interface Partition {
  readonly labeled: Problem[];
  /** Answers and solutions removed: a different type, built by copying allowed fields only. */
  readonly unlabeled: UnlabeledProblem[];
}

/**
 * Splits a training set into labeled and unlabeled parts: a seeded shuffle, the first
 * `round(labeledRatio * n)` stay labeled. Same inputs and seed → same split.
 */
export function partitionLabeled(problems: readonly Problem[], options: PartitionOptions): Partition {
  const { labeledRatio } = options;
  if (!(labeledRatio >= 0 && labeledRatio <= 1)) {
    throw new RangeError(`labeledRatio must be in [0, 1], got ${labeledRatio}`);
  }
  const shuffled = createRng(options.seed).shuffle(problems);
  const nLabeled = Math.round(labeledRatio * problems.length);
  return {
    labeled: shuffled.slice(0, nLabeled),
    unlabeled: shuffled.slice(nLabeled).map(toUnlabeled),
  };
}
