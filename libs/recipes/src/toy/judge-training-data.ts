import { generateToyProblems, generateVerifierData } from '@verdict/data';
import type { LlamaFamilyConfig, ModelTokenizer } from '@verdict/models';
import { chainIsGold } from './chain-labels.js';
import { claimItems } from './judge-checks.js';
import { type JudgeTrainItem, judgeSequences, judgeSolverSequences } from './judge-data.js';
import type { JudgeRecipeConfig } from './judge-recipe-config.js';
import { studentSftSequences } from './student.js';
import type { StudentSample } from './student-samples.js';
import { shuffle, type WeightedSequence } from './train-examples.js';

/** Phase 1: the gold solutions of `solverProblems` fresh problems, in `solverTemplate`'s prompt. */
export function judgeSolverPhase(
  tokenizer: ModelTokenizer,
  modelConfig: LlamaFamilyConfig,
  config: JudgeRecipeConfig,
): WeightedSequence[] {
  const problems = generateToyProblems(config.solverProblems, {
    seed: `toy-judge:solver:${config.seed}`,
    split: 'id',
  });
  if (config.solverTemplate === 'plain') return studentSftSequences(tokenizer, modelConfig, problems);
  return judgeSolverSequences(
    tokenizer,
    problems.map((p) => ({ question: p.question, solution: p.solution ?? '' })),
  );
}

/** Phase 2's synthetic part: gold and corrupted solutions (every error kind), labeled. */
export function judgeSyntheticItems(config: JudgeRecipeConfig): JudgeTrainItem[] {
  const problems = generateToyProblems(config.syntheticProblems, {
    seed: `toy-judge:synthetic:${config.seed}`,
    split: 'id',
  });
  return generateVerifierData(problems, {
    seed: `toy-judge:${config.seed}`,
    wrongPerProblem: config.wrongPerProblem,
  }).map((e) => ({ question: e.question, solution: e.solution, label: e.label }));
}

/** Phase 2's length, known before the student's samples are drawn (the LR schedule spans it). */
export function judgingPhaseCount(config: JudgeRecipeConfig, syntheticItems: number): number {
  return syntheticItems + config.studentSampleProblems * config.samplesPerProblem + config.claimItems;
}

/**
 * Phase 2, judging: the synthetic items; the student's own samples labeled by their chain (a right
 * answer through a wrong chain is a No: the reward must not pay for it); and up to `claimItems`
 * solutions cut after one step, labeled by whether that step holds. Gold solutions also carry
 * the LM loss, so the judge keeps the solving it checks against.
 */
export function judgingPhase(
  tokenizer: ModelTokenizer,
  config: JudgeRecipeConfig,
  synthetic: readonly JudgeTrainItem[],
  studentSamples: readonly StudentSample[],
): WeightedSequence[] {
  const samples: JudgeTrainItem[] = studentSamples.map((s) => ({
    question: s.problem.question,
    solution: s.solution,
    label: chainIsGold(s.solution, s.problem.solution),
  }));
  const claims: JudgeTrainItem[] = shuffle(
    claimItems([...samples, ...synthetic.filter((i) => !i.label)]),
    `toy-judge:claims:${config.seed}`,
  )
    .slice(0, config.claimItems)
    .map((c) => ({ question: c.question, solution: c.prefix, label: c.holds }));
  return [
    ...judgeSequences(tokenizer, [...synthetic, ...samples], config.lmLossWeight),
    ...judgeSequences(tokenizer, claims, 0),
  ];
}
