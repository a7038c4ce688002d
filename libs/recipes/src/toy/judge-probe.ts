import { generateToyProblems, generateVerifierData, TOY_ERROR_KINDS, type ToyErrorKind } from '@verdict/data';
import type { JudgeModel } from '@verdict/models';
import { auroc } from '@verdict/rl';
import { judgeScores, mean } from './judge-scores.js';

/** Problems the probe draws; each gives its correct solution and one wrong one. */
export const JUDGE_PROBE_PROBLEMS = 300;

/** The judge on held-out synthetic verifier data (see probeJudgeOnSynthetic). */
export interface SyntheticJudgeMetrics {
  readonly auroc: number;
  readonly samples: number;
  /** Mean P(Yes) on the correct solutions and on each kind of wrong one. */
  readonly meanScore: Readonly<Record<'correct' | ToyErrorKind, number>>;
}

/**
 * Scores the judge on fresh synthetic verifier data — balanced, every error kind labelled, the
 * very distribution it was trained on. The AUROC on the student's samples alone cannot tell a
 * judge that checks solutions from one that has learned what the student's wrong samples look like
 * (garbled wording, extra lines, harder problems); a checking judge is near 1 here, and the mean
 * score per kind shows which mistakes it actually catches.
 */
export async function probeJudgeOnSynthetic(model: JudgeModel, seed: number): Promise<SyntheticJudgeMetrics> {
  const problems = generateToyProblems(JUDGE_PROBE_PROBLEMS, { seed: `judge-probe:${seed}`, split: 'id' });
  const data = generateVerifierData(problems, { seed: `judge-probe:${seed}` });
  const scores = await judgeScores(
    model,
    data.map((d) => ({ question: d.question, answer: d.solution })),
  );
  const of = (kind: ToyErrorKind | null) => mean(scores.filter((_, i) => data[i]!.errorKind === kind));
  const meanScore = { correct: of(null) } as Record<'correct' | ToyErrorKind, number>;
  for (const kind of TOY_ERROR_KINDS) meanScore[kind] = of(kind);
  return {
    auroc: auroc(
      scores,
      data.map((d) => d.label),
    ),
    samples: scores.length,
    meanScore,
  };
}
