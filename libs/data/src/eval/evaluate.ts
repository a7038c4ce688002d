import type { Tolerance } from '../answer/check-answer.js';
import type { Problem } from '../problem.js';
import { type EvalScores, type SampledItem, scoreItems } from './score.js';

/** A model as the harness sees it: greedy output, and sampled outputs for maj@k. */
export interface AnswerSource {
  greedy(problem: Problem): Promise<string> | string;
  sample?(problem: Problem, sampleIndex: number): Promise<string> | string;
}

export interface EvaluateOptions {
  /** Samples per problem for maj@k (n ≥ k); 0 or absent = greedy only. */
  readonly samples?: number;
  /** k for maj@k; defaults to `samples`. */
  readonly k?: number;
  readonly category?: (problem: Problem) => string | undefined;
  readonly tolerance?: Tolerance;
}

/**
 * Runs a model over problems (sequentially: the model side batches) and scores it with the
 * shared checker. The outputs are returned too, for reports.
 */
export async function evaluateProblems(
  problems: readonly Problem[],
  model: AnswerSource,
  options: EvaluateOptions = {},
): Promise<{ scores: EvalScores; items: SampledItem[] }> {
  const n = options.samples ?? 0;
  if (n > 0 && model.sample === undefined) throw new RangeError('maj@k needs a model that can sample');
  const items: SampledItem[] = [];
  for (const p of problems) {
    const greedy = await model.greedy(p);
    const samples: string[] = [];
    for (let i = 0; i < n; i++) samples.push(await model.sample!(p, i));
    const category = options.category?.(p);
    items.push({
      id: p.id,
      gold: p.answer,
      greedy,
      ...(n > 0 ? { samples } : {}),
      ...(category !== undefined ? { category } : {}),
    });
  }
  const k = n > 0 ? (options.k ?? n) : undefined;
  const scores = scoreItems(items, {
    ...(k !== undefined ? { k } : {}),
    ...(options.tolerance ? { tolerance: options.tolerance } : {}),
  });
  return { scores, items };
}
