/** Dataset names this package can read. */
export type DatasetSource = 'gsm8k' | 'svamp' | 'gsm-plus' | 'gsm-hard' | 'mawps' | 'toy';

/** Metadata kept alongside a problem. Never holds the answer or anything it can be derived from. */
export type ProblemMeta = Readonly<Record<string, string | number>>;

/** A labeled problem: the common shape every reader returns. */
export interface Problem {
  /** Stable id, unique within its source, e.g. `gsm8k-test-12`, `svamp-chal-624`. */
  readonly id: string;
  readonly source: DatasetSource;
  readonly question: string;
  /** Gold final answer; `null` means "cannot be answered" (GSM-Plus critical thinking, gold `"None"`). */
  readonly answer: number | null;
  /** The gold answer as the dataset wrote it (`"1,600"`, `"4.33"`, `"1/2"`, `"None"`, `"51.0"`). */
  readonly answerText: string;
  /** Worked solution ending in `#### N` where the dataset has one (SVAMP: its equation). */
  readonly solution?: string;
  readonly meta: ProblemMeta;
}

/**
 * A problem whose answer must not be seen (the unlabeled share of a training set).
 * It is a separate type with no answer fields at all, built by copying only the allowed
 * fields, so neither the type checker nor a JSON dump can reach the gold answer.
 */
export interface UnlabeledProblem {
  readonly id: string;
  readonly source: DatasetSource;
  readonly question: string;
  readonly meta: ProblemMeta;
}

/** Copies only the fields an unlabeled item may carry. */
export function toUnlabeled(problem: Problem): UnlabeledProblem {
  return { id: problem.id, source: problem.source, question: problem.question, meta: { ...problem.meta } };
}
