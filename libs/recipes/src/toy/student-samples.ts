import {
  checkAnswer,
  generateToyProblems,
  PLAIN_TEMPLATE,
  renderStudentPrompt,
  type ToyProblem,
} from '@verdict/data';
import { generate, type JudgeModel, type LlamaModel } from '@verdict/models';
import { judgeScores } from './judge-scores.js';
import { createProgressMeter } from './progress.js';
import type { ToyStudentRecipe } from './toy-recipe-config.js';

/** One student completion, labeled by the answer checker (strict `#### N`). */
export interface StudentSample {
  readonly problem: ToyProblem;
  /** The solution text as the judge sees it (leading space of the completion trimmed). */
  readonly solution: string;
  readonly correct: boolean;
}

export function studentPrompt(question: string): string {
  const p = renderStudentPrompt(question, PLAIN_TEMPLATE);
  if (p.kind !== 'plain') throw new Error('plain template expected');
  return p.text;
}

/**
 * Runs the student on every problem `samplesPerProblem` times (temperature 0 = greedy, one sample),
 * in batches, and labels each completion with `checkAnswer(strict)`.
 */
export async function sampleStudent(
  model: LlamaModel,
  problems: readonly ToyProblem[],
  options: {
    readonly label: string;
    readonly samplesPerProblem: number;
    readonly temperature: number;
    readonly maxNewTokens: number;
    readonly seed: number;
    /** Index of the first sample in a longer stream drawn in parts (default 0): keeps row seeds distinct. */
    readonly firstIndex?: number;
    readonly batchSize?: number;
    readonly onProgress: (line: string) => void;
  },
): Promise<StudentSample[]> {
  const jobs: ToyProblem[] = [];
  for (const p of problems) for (let k = 0; k < options.samplesPerProblem; k++) jobs.push(p);
  const batchSize = options.batchSize ?? 64;
  const meter = createProgressMeter(options.label, jobs.length, 'samples', options.onProgress);
  const out: StudentSample[] = [];
  let correct = 0;
  for (let start = 0; start < jobs.length; start += batchSize) {
    const chunk = jobs.slice(start, start + batchSize);
    const gens = await generate(
      model,
      chunk.map((p) => studentPrompt(p.question)),
      {
        temperature: options.temperature,
        maxNewTokens: options.maxNewTokens,
        // A distinct stream per batch: row seeds are derived from (seed, row index).
        seed: options.seed * 100_003 + (options.firstIndex ?? 0) + start,
      },
    );
    gens.forEach((g, i) => {
      const problem = chunk[i]!;
      const ok = checkAnswer(g.text, problem.answer, 'strict');
      if (ok) correct++;
      out.push({ problem, solution: g.text.trim(), correct: ok });
    });
    meter.update(out.length, `correct ${((100 * correct) / out.length).toFixed(1)}%`);
  }
  return out;
}

/**
 * The fresh student samples the judge is graded on (problems `judge-eval:<seed>`, never trained
 * on). One definition, so a cache upgraded on read measures on the same set a fresh run does.
 */
export function sampleJudgeEvalSet(
  model: LlamaModel,
  config: ToyStudentRecipe,
  onProgress: (line: string) => void,
): Promise<StudentSample[]> {
  return sampleStudent(
    model,
    generateToyProblems(config.eval.judgeProblems, { seed: `judge-eval:${config.seed}`, split: 'id' }),
    {
      temperature: config.sampling.temperature,
      maxNewTokens: config.sampling.maxNewTokens,
      samplesPerProblem: config.eval.judgeSamplesPerProblem,
      seed: config.seed + 2,
      label: 'toy: fresh student samples (judge eval)',
      onProgress,
    },
  );
}

/** The judge's P(Yes) for each student sample, through `judge()` (the judge-server's code path). */
export async function judgeStudentSamples(
  model: JudgeModel,
  samples: readonly StudentSample[],
): Promise<number[]> {
  return judgeScores(
    model,
    samples.map((s) => ({ question: s.problem.question, answer: s.solution })),
  );
}
