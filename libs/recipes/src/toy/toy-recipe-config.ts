import { createHash } from 'node:crypto';
import { JUDGE_TEMPLATE, PLAIN_TEMPLATE } from '@verdict/data';

export type ToyBudget = 'quick' | 'full';

/** Transformer shape of a toy model (Llama: RMSNorm, RoPE, SwiGLU, tied embeddings). */
export interface ToyModelDims {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
}

export interface ToyTrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  /** AdamW β2 (default 0.999); 0.99 adapts faster in short runs. */
  readonly beta2?: number;
}

/** Everything that decides what `prepareToyWorld` produces; its hash keys the cache. */
export interface ToyRecipeConfig {
  readonly budget: ToyBudget;
  readonly seed: number;
  readonly student: {
    readonly dims: ToyModelDims;
    /** Labeled toy problems (in-domain, mixed difficulty) the student is SFT-trained on. */
    readonly trainProblems: number;
    readonly train: ToyTrainConfig;
  };
  /** The world's judge: trained here (the quick preset), or the committed one (`full`). */
  readonly judge: TrainedToyJudgeConfig | ShippedToyJudgeRef;
  readonly sampling: {
    readonly temperature: number;
    readonly maxNewTokens: number;
  };
  readonly eval: {
    /** Held-out problems for the student's greedy accuracy (in-domain and held-out templates each). */
    readonly studentProblems: number;
    /** Fresh problems the student samples on to measure the judge. */
    readonly judgeProblems: number;
    readonly judgeSamplesPerProblem: number;
  };
  /**
   * ORT intra-op threads per session. The student's and the judge's sessions run at the same time
   * in two workers, so 1 each uses both cores of a 2-core machine.
   */
  readonly threads: number;
  /** Recorded so a template change invalidates the cache. */
  readonly templates: { readonly student: string; readonly judge: string };
}

/** The committed judge (`verdict toy train-judge`), named by its recipe and its weights. */
export interface ShippedToyJudgeRef {
  readonly source: 'shipped';
  readonly recipeHash: string;
  readonly sha256: string;
}

/** A small judge trained alongside the student (the quick preset: tests). */
export interface TrainedToyJudgeConfig {
  readonly source: 'trained';
  readonly dims: ToyModelDims;
  /**
   * Phase 0: the judge learns to solve — an LM loss on the gold solutions of this many fresh
   * problems, in the judge's own prompt, for `pretrainEpochs` — before it learns to judge.
   */
  readonly pretrainProblems: number;
  readonly pretrainEpochs: number;
  /**
   * Phase 1 (runs while the student trains and samples): correct + corrupted solutions of this
   * many problems (generateVerifierData), for `syntheticEpochs`.
   */
  readonly syntheticProblems: number;
  /**
   * Share of synthetic problems per difficulty 1–4. Skewed to easy problems: that is where the
   * student's correct answers are, and where checking the arithmetic is learnable in budget.
   */
  readonly syntheticDifficultyMix: readonly [number, number, number, number];
  readonly wrongPerProblem: number;
  readonly syntheticEpochs: number;
  /**
   * Phase 2: the student's own samples on this many fresh problems, labeled by the answer
   * checker, drawn and trained on in four parts (the judge starts on the first while the
   * student draws the rest)...
   */
  readonly studentSampleProblems: number;
  readonly samplesPerProblem: number;
  /** ...mixed with this many phase-1 examples replayed (so phase 2 does not forget them)... */
  readonly replayExamples: number;
  /** ...for this many passes over each part (the student's distribution is the one the judge is graded on). */
  readonly studentSampleEpochs: number;
  /**
   * Weight of the auxiliary LM loss on the solution tokens of correct solutions, relative to the
   * verdict token (weight 1 per example): teaches the judge the arithmetic it has to check.
   */
  readonly lmLossWeight: number;
  readonly train: Omit<ToyTrainConfig, 'epochs'>;
}

const STUDENT_DIMS: ToyModelDims = { hiddenSize: 128, numLayers: 4, numHeads: 4, intermediateSize: 384 };

/**
 * The recipe presets: `full` is what `verdict toy prepare` and `npm start` run (the student and its
 * judge trained here, or the committed judge named by `shipped` — see `shippedToyJudgeRef`),
 * `quick` what the tests run (a tiny student and a tiny judge trained beside it).
 */
export function toyRecipeConfig(
  budget: ToyBudget,
  seed = 0,
  threads = 1,
  shipped?: ShippedToyJudgeRef,
): ToyRecipeConfig {
  const student = toyStudentRecipe(budget, seed, threads);
  if (budget === 'quick') {
    return {
      ...student,
      judge: {
        source: 'trained',
        dims: { hiddenSize: 96, numLayers: 2, numHeads: 3, intermediateSize: 256 },
        pretrainProblems: 200,
        pretrainEpochs: 1,
        syntheticProblems: 800,
        syntheticDifficultyMix: [0.25, 0.25, 0.25, 0.25],
        wrongPerProblem: 1,
        syntheticEpochs: 2,
        studentSampleProblems: 32,
        samplesPerProblem: 2,
        replayExamples: 64,
        studentSampleEpochs: 1,
        lmLossWeight: 0.5,
        train: { batchSize: 16, lr: 3e-3 },
      },
    };
  }
  return { ...student, judge: shipped ?? FULL_WORLD_JUDGE };
}

/**
 * The full world's own judge (the v4 recipe: solve, then synthetic slips, then the student's samples).
 * It stays the full world's judge until a committed one beats it: the strong-judge recipe's first
 * result (`verdict toy train-judge`, libs/recipes README) lost to it on chains, answers and slips.
 */
const FULL_WORLD_JUDGE: TrainedToyJudgeConfig = {
  source: 'trained',
  dims: { hiddenSize: 192, numLayers: 4, numHeads: 6, intermediateSize: 512 },
  pretrainProblems: 6000,
  pretrainEpochs: 2,
  syntheticProblems: 3000,
  syntheticDifficultyMix: [0.5, 0.3, 0.1, 0.1],
  wrongPerProblem: 1,
  syntheticEpochs: 1,
  studentSampleProblems: 3000,
  samplesPerProblem: 4,
  replayExamples: 1000,
  studentSampleEpochs: 1,
  lmLossWeight: 1,
  train: { batchSize: 32, lr: 2e-3 },
};

/** A toy recipe without its judge: the student, its sampling and the evaluation sets. */
export type ToyStudentRecipe = Omit<ToyRecipeConfig, 'judge'>;

/** The student part of the presets (what `verdict toy train-judge` trains its judge against). */
export function toyStudentRecipe(budget: ToyBudget, seed = 0, threads = 1): ToyStudentRecipe {
  const templates = { student: PLAIN_TEMPLATE.version, judge: JUDGE_TEMPLATE.version };
  if (budget === 'quick') {
    return {
      budget,
      seed,
      student: {
        dims: { hiddenSize: 64, numLayers: 2, numHeads: 2, intermediateSize: 192 },
        trainProblems: 200,
        train: { epochs: 2, batchSize: 16, lr: 3e-3 },
      },
      sampling: { temperature: 1, maxNewTokens: 96 },
      eval: { studentProblems: 32, judgeProblems: 32, judgeSamplesPerProblem: 2 },
      threads,
      templates,
    };
  }
  return {
    budget,
    seed,
    student: { dims: STUDENT_DIMS, trainProblems: 6000, train: { epochs: 3, batchSize: 16, lr: 3e-3 } },
    sampling: { temperature: 1, maxNewTokens: 96 },
    eval: { studentProblems: 300, judgeProblems: 400, judgeSamplesPerProblem: 4 },
    threads,
    templates,
  };
}

/** Stable JSON (sorted keys) so a recipe's hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Recipe version: bump when the code changes what a config produces. 5: the student is cached on its
 * own and the judge may be a committed one (`judge.source`).
 */
export const TOY_RECIPE_VERSION = 5;

/** The student's own version (its code has not changed since world version 4). */
export const TOY_STUDENT_VERSION = 4;

/**
 * First 16 hex digits of sha256 over the canonical config and TOY_RECIPE_VERSION. Threads are left
 * out: they only change float summation order (results are reproducible for a fixed count), and a
 * cache should not be rebuilt for them.
 */
export function toyRecipeHash(config: ToyRecipeConfig): string {
  const { threads: _threads, ...rest } = config;
  return createHash('sha256')
    .update(canonicalJson({ version: TOY_RECIPE_VERSION, ...rest }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * First 16 hex digits of sha256 over what makes the student alone (its seed, shape, data and
 * training, its sampling and its evaluation): a judge trained against this student names it by
 * this hash, which stays the same whatever the world does about its own judge.
 */
export function toyStudentHash(config: ToyStudentRecipe): string {
  const student = {
    version: TOY_STUDENT_VERSION,
    seed: config.seed,
    student: config.student,
    sampling: config.sampling,
    studentProblems: config.eval.studentProblems,
    template: config.templates.student,
  };
  return createHash('sha256').update(canonicalJson(student)).digest('hex').slice(0, 16);
}
