import { answersEqual } from '../answer/check-answer.js';
import type { Problem } from '../problem.js';

/** A stand-in for a model in harness checks: maps a problem (and sample index) to output text. */
export interface PseudoModel {
  readonly name: 'oracle' | 'wrong';
  answer(problem: Problem, sampleIndex?: number): string;
}

/** A gold-style text for a problem: its solution when it ends in `####`, else a `#### answer` line. */
function goldText(problem: Problem): string {
  if (problem.solution?.includes('####')) return problem.solution;
  const lead = problem.solution !== undefined ? `${problem.solution} = ${problem.answerText}\n` : '';
  return `${lead}#### ${problem.answerText}`;
}

/** Answers with the gold solution text: every suite must score 1.0 strict and flexible. */
export const ORACLE_MODEL: PseudoModel = {
  name: 'oracle',
  answer: (problem) => goldText(problem),
};

/**
 * A number guaranteed not to equal the gold answer under the checker's tolerance (for "None"
 * gold, any number is wrong). Doubling plus one moves away from gold at any magnitude.
 */
export function wrongNumber(gold: number | null): number {
  if (gold === null) return 42;
  let candidate = gold === 0 ? 1 : gold * 2 + 1;
  while (answersEqual(candidate, gold)) candidate = candidate * 2 + 1;
  return candidate;
}

/** Answers with one wrong number and nothing else: every suite must score 0.0 strict and flexible. */
export const WRONG_MODEL: PseudoModel = {
  name: 'wrong',
  answer: (problem) => `#### ${wrongNumber(problem.answer)}`,
};

export function getPseudoModel(name: string): PseudoModel | undefined {
  if (name === 'oracle') return ORACLE_MODEL;
  if (name === 'wrong') return WRONG_MODEL;
  return undefined;
}
