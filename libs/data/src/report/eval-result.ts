import type { CategoryScores, EvalScores, ModeScores } from '../eval/score.js';

/** One extraction mode's numbers as they appear in results JSON (snake_case, stable keys). */
export interface ModeResult {
  readonly accuracy: number;
  readonly correct: number;
  /** null when no maj@k was asked for. */
  readonly maj_at_k: number | null;
  /** Share of correct samples (all drawn, n ≥ k) averaged over questions; null when greedy only. */
  readonly mean_at_k: number | null;
}

export interface CategoryResult {
  readonly n: number;
  /** Headline (strict) greedy accuracy of the category. */
  readonly accuracy: number;
  readonly maj_at_k: number | null;
  readonly strict: ModeResult;
  readonly flexible: ModeResult;
}

/**
 * The results document of one suite run (DESIGN.md §6: `verdict eval --json` prints it, the
 * evaluator writes it). Headline `accuracy` / `maj_at_k` are strict (`#### N`), as in `scoreItems`.
 */
export interface EvalResult {
  readonly suite: string;
  readonly n: number;
  readonly accuracy: number;
  readonly maj_at_k: number | null;
  /** mean@k (strict): the share of correct samples averaged over questions; null when greedy only. */
  readonly mean_at_k: number | null;
  /** Votes per maj@k draw; null when greedy only. */
  readonly k: number | null;
  /** Samples drawn per question (n ≥ k); 0 when greedy only. */
  readonly samples: number;
  readonly strict: ModeResult;
  readonly flexible: ModeResult;
  /** Per category (GSM-Plus perturbation type, MAWPS subset, toy difficulty...); {} when none. */
  readonly per_category: Readonly<Record<string, CategoryResult>>;
  /** Model identity: `oracle`, `wrong`, a model folder, or a policy-server's model id. */
  readonly model: string;
  /** Weights version when known (policy-server), else null. */
  readonly model_version: string | null;
  readonly template: string;
  /** Prompt template content hash (libs/data prompts): results with different versions are not comparable. */
  readonly template_version: string;
  /** Sampling of the maj@k samples (greedy always uses temperature 0). */
  readonly temperature: number;
  readonly seed: number;
  readonly max_new_tokens: number | null;
  readonly limit: number | null;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
}

function modeResult(m: ModeScores): ModeResult {
  return {
    accuracy: m.accuracy,
    correct: m.correct,
    maj_at_k: m.majAtK ?? null,
    mean_at_k: m.meanAtK ?? null,
  };
}

function categoryResult(c: CategoryScores): CategoryResult {
  return {
    n: c.n,
    accuracy: c.strict.accuracy,
    maj_at_k: c.strict.majAtK ?? null,
    strict: modeResult(c.strict),
    flexible: modeResult(c.flexible),
  };
}

export interface EvalRunInfo {
  readonly suite: string;
  readonly samples: number;
  readonly model: string;
  readonly modelVersion?: string;
  readonly template: string;
  readonly templateVersion: string;
  readonly temperature: number;
  readonly seed: number;
  readonly maxNewTokens?: number;
  readonly limit?: number;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

/** Scores + run facts → the results document. */
export function toEvalResult(scores: EvalScores, info: EvalRunInfo): EvalResult {
  const perCategory: Record<string, CategoryResult> = {};
  for (const [name, c] of Object.entries(scores.byCategory ?? {})) perCategory[name] = categoryResult(c);
  return {
    suite: info.suite,
    n: scores.n,
    accuracy: scores.accuracy,
    maj_at_k: scores.majAtK ?? null,
    mean_at_k: scores.strict.meanAtK ?? null,
    k: scores.k ?? null,
    samples: info.samples,
    strict: modeResult(scores.strict),
    flexible: modeResult(scores.flexible),
    per_category: perCategory,
    model: info.model,
    model_version: info.modelVersion ?? null,
    template: info.template,
    template_version: info.templateVersion,
    temperature: info.temperature,
    seed: info.seed,
    max_new_tokens: info.maxNewTokens ?? null,
    limit: info.limit ?? null,
    started_at: info.startedAt.toISOString(),
    finished_at: info.finishedAt.toISOString(),
    duration_ms: info.finishedAt.getTime() - info.startedAt.getTime(),
  };
}
