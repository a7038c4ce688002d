import { auroc } from '@verdict/rl';
import type { StudentSample } from './student-samples.js';

/**
 * How far the answer labels the judge is graded on are from the thing a judge can check: the
 * working. A toy solution is fully determined by its problem (one sentence template per operation),
 * so a sample's chain is right exactly when its text is the gold solution. A sample whose final
 * number matches the gold answer while its chain does not is graded correct all the same — a lucky
 * hit — and no judge that reads the working can tell it from a wrong sample.
 */
export interface ChainLabelMetrics {
  /** Samples whose chain is the gold solution. */
  readonly chainCorrect: number;
  /** Share of the samples graded correct whose chain differs from the gold solution. */
  readonly correctWithWrongChain: number;
  /**
   * AUROC against the answer labels of a perfect chain checker (1 when the chain is the gold one,
   * else 0): what the judge's AUROC would be if it checked the working without error.
   */
  readonly chainCheckerAuroc: number;
  /** The judge's AUROC against chain correctness instead of the answer. */
  readonly judgeAurocOnChains: number;
}

/** One judged sample: its text, the gold solution, and the answer checker's label. */
export interface ChainLabelSample {
  readonly solution: string;
  readonly goldSolution: string | undefined;
  readonly correct: boolean;
}

export function chainLabelMetrics(
  samples: readonly ChainLabelSample[],
  scores: readonly number[],
): ChainLabelMetrics {
  if (scores.length !== samples.length) {
    throw new RangeError(`chainLabelMetrics: ${scores.length} scores for ${samples.length} samples`);
  }
  const chain = samples.map((s) => chainIsGold(s.solution, s.goldSolution));
  const answers = samples.map((s) => s.correct);
  const correct = answers.filter(Boolean).length;
  const lucky = samples.filter((s, i) => s.correct && !chain[i]).length;
  return {
    chainCorrect: chain.filter(Boolean).length,
    correctWithWrongChain: correct === 0 ? Number.NaN : lucky / correct,
    chainCheckerAuroc: auroc(
      chain.map((c) => (c ? 1 : 0)),
      answers,
    ),
    judgeAurocOnChains: auroc(scores, chain),
  };
}

/** A toy chain is right exactly when it is the gold solution (see ChainLabelMetrics). */
export function chainIsGold(solution: string, goldSolution: string | undefined): boolean {
  return goldSolution !== undefined && solution.trim() === goldSolution.trim();
}

export function chainLabelSamples(samples: readonly StudentSample[]): ChainLabelSample[] {
  return samples.map((s) => ({ solution: s.solution, goldSolution: s.problem.solution, correct: s.correct }));
}
