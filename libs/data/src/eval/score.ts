import { answersEqual, type Tolerance } from '../answer/check-answer.js';
import { type ExtractionMode, extractAnswer, extractionValue } from '../answer/extract.js';
import { majAtK } from './maj-at-k.js';

/** One evaluated question: the model's greedy output and, for maj@k, n sampled outputs. */
export interface SampledItem {
  readonly id: string;
  readonly gold: number | null;
  /** Breakdown key, e.g. the GSM-Plus perturbation type. */
  readonly category?: string;
  readonly greedy: string;
  readonly samples?: readonly string[];
}

export interface ModeScores {
  /** Greedy accuracy. */
  readonly accuracy: number;
  readonly correct: number;
  /** Unbiased maj@k over the samples; present when k was asked for. */
  readonly majAtK?: number;
  /**
   * mean@k: the share of correct samples (all n ≥ k of them: an unbiased estimate of the expected
   * accuracy of one sample), averaged over items; present when k was asked for.
   */
  readonly meanAtK?: number;
}

export interface CategoryScores {
  readonly n: number;
  readonly strict: ModeScores;
  readonly flexible: ModeScores;
}

export interface EvalScores {
  readonly n: number;
  readonly k?: number;
  /** Headline numbers: the strict (`#### N`) scores. */
  readonly accuracy: number;
  readonly majAtK?: number;
  readonly strict: ModeScores;
  readonly flexible: ModeScores;
  /** Per category, when any item has one. */
  readonly byCategory?: Readonly<Record<string, CategoryScores>>;
}

export interface ScoreOptions {
  /** Votes per maj@k draw; every item then needs at least k samples. */
  readonly k?: number;
  readonly tolerance?: Tolerance;
}

function modeScores(items: readonly SampledItem[], mode: ExtractionMode, options: ScoreOptions): ModeScores {
  const tolerance = options.tolerance ?? {};
  let correct = 0;
  let maj = 0;
  let mean = 0;
  for (const item of items) {
    if (answersEqual(extractionValue(extractAnswer(item.greedy, mode)), item.gold, tolerance)) correct++;
    if (options.k !== undefined) {
      const samples = item.samples ?? [];
      const votes = samples.map((s) => extractionValue(extractAnswer(s, mode)));
      maj += majAtK(votes, item.gold, options.k, tolerance);
      mean += votes.filter((v) => answersEqual(v, item.gold, tolerance)).length / votes.length;
    }
  }
  const n = items.length;
  const accuracy = n === 0 ? 0 : correct / n;
  return options.k === undefined
    ? { accuracy, correct }
    : { accuracy, correct, majAtK: n === 0 ? 0 : maj / n, meanAtK: n === 0 ? 0 : mean / n };
}

/** Greedy accuracy and maj@k, strict and flexible side by side, with a per-category breakdown. */
export function scoreItems(items: readonly SampledItem[], options: ScoreOptions = {}): EvalScores {
  if (options.k !== undefined) {
    const short = items.find((i) => (i.samples?.length ?? 0) < options.k!);
    if (short !== undefined) {
      throw new RangeError(
        `maj@${options.k} needs ≥ ${options.k} samples per item; ${short.id} has ${short.samples?.length ?? 0}`,
      );
    }
  }
  const strict = modeScores(items, 'strict', options);
  const flexible = modeScores(items, 'flexible', options);
  const groups = new Map<string, SampledItem[]>();
  for (const item of items) {
    if (item.category === undefined) continue;
    const list = groups.get(item.category) ?? [];
    list.push(item);
    groups.set(item.category, list);
  }
  const byCategory: Record<string, CategoryScores> = {};
  for (const [category, list] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    byCategory[category] = {
      n: list.length,
      strict: modeScores(list, 'strict', options),
      flexible: modeScores(list, 'flexible', options),
    };
  }
  return {
    n: items.length,
    ...(options.k !== undefined ? { k: options.k } : {}),
    accuracy: strict.accuracy,
    ...(strict.majAtK !== undefined ? { majAtK: strict.majAtK } : {}),
    strict,
    flexible,
    ...(groups.size > 0 ? { byCategory } : {}),
  };
}
