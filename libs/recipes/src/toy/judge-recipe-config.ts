import { createHash } from 'node:crypto';
import { JUDGE_TEMPLATE, PLAIN_TEMPLATE } from '@verdict/data';
import { canonicalJson, type ToyModelDims, type ToyTrainConfig } from './toy-recipe-config.js';

/**
 * Everything that decides what `trainToyJudge` produces (the judge `npm start` ships with); its
 * hash names the work folder and is recorded in the shipped manifest.
 */
export interface JudgeRecipeConfig {
  readonly seed: number;
  /** The student (`toyStudentHash`) the judge learns from and is graded on. */
  readonly studentHash: string;
  readonly dims: ToyModelDims;
  /**
   * Phase 1, solving: an LM loss on the gold solutions of this many fresh problems, each seen
   * once. Fresh data rather than epochs: a probe of this shape went 19 → 49 → 67 → 84 % greedy
   * per 12,000 problems.
   */
  readonly solverProblems: number;
  /**
   * The prompt phase 1 solves in: `plain` (the student's "Question: …\nAnswer:", ending in EOS) or
   * `judge` (the judge prompt cut after "Solution:"). Its solver accuracy is measured in the same one.
   */
  readonly solverTemplate: SolverTemplate;
  /** Phase 1's AdamW run: its own warm-up and cosine to 10 %, so the solver ends annealed. */
  readonly solverTrain: Omit<ToyTrainConfig, 'epochs'>;
  /** Phase 2, judging: the gold and `wrongPerProblem` corrupted solutions of this many problems. */
  readonly syntheticProblems: number;
  readonly wrongPerProblem: number;
  /** Phase 2: the student's samples (T = 1) on this many problems, labeled by their chain. */
  readonly studentSampleProblems: number;
  readonly samplesPerProblem: number;
  /**
   * Phase 2: solutions cut after one `a op b = c` step, labeled by whether that step holds (a
   * verdict per claim), at most this many, drawn from the student samples and the corrupted ones.
   */
  readonly claimItems: number;
  /** LM loss on gold solutions during phase 2 (total weight per solution; the verdict weighs 1). */
  readonly lmLossWeight: number;
  /** Phase 2's AdamW run (fresh moments, its own warm-up and cosine to 10 %), from phase 1's weights. */
  readonly train: Omit<ToyTrainConfig, 'epochs'>;
  readonly checkpointEverySteps: number;
  readonly eval: {
    /** Problems the judge solves greedily (TOY_EVAL_SEED, in-domain). */
    readonly solverProblems: number;
  };
  /** Versions of the judge prompt and of the prompt phase 1 solves in (a changed text is a new recipe). */
  readonly templates: { readonly judge: string; readonly solver: string };
}

export type SolverTemplate = 'plain' | 'judge';

export const TOY_JUDGE_DIMS: ToyModelDims = {
  hiddenSize: 256,
  numLayers: 6,
  numHeads: 8,
  intermediateSize: 768,
};

/** The shipped judge's recipe, for the student `studentHash`. */
export function judgeRecipeConfig(studentHash: string, seed = 0): JudgeRecipeConfig {
  return {
    seed,
    studentHash,
    dims: TOY_JUDGE_DIMS,
    solverProblems: 48_000,
    solverTemplate: 'plain',
    solverTrain: { batchSize: 32, lr: 2e-3 },
    syntheticProblems: 6_000,
    wrongPerProblem: 2,
    studentSampleProblems: 3_000,
    samplesPerProblem: 4,
    claimItems: 10_000,
    lmLossWeight: 1,
    // Judging fine-tunes a converged solver: half its peak LR (version 1 ran both phases under one
    // cosine at 2e-3, so the solver was never annealed and judging started from a noisy one).
    train: { batchSize: 32, lr: 1e-3 },
    checkpointEverySteps: 100,
    eval: { solverProblems: 1_000 },
    templates: { judge: JUDGE_TEMPLATE.version, solver: PLAIN_TEMPLATE.version },
  };
}

/**
 * Bump when the code changes what a config produces. 2: two AdamW runs (solving annealed on its own,
 * then judging), the solver's template a field.
 */
export const JUDGE_RECIPE_VERSION = 2;

/** First 16 hex digits of sha256 over the canonical config and JUDGE_RECIPE_VERSION. */
export function judgeRecipeHash(config: JudgeRecipeConfig): string {
  return createHash('sha256')
    .update(canonicalJson({ version: JUDGE_RECIPE_VERSION, ...config }))
    .digest('hex')
    .slice(0, 16);
}
