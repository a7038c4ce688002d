import { checkAnswer } from '../answer/check-answer.js';
import type { ReadOptions } from '../datasets/readers.js';
import type { PseudoModel } from '../eval/pseudo-models.js';
import { type SampledItem, scoreItems } from '../eval/score.js';
import { getSuite, problemCategory } from '../eval/suites.js';
import type { Problem } from '../problem.js';
import {
  PLAIN_TEMPLATE,
  type RenderedPrompt,
  renderStudentPrompt,
  type TextTemplate,
} from '../prompts/templates.js';
import { type EvalResult, toEvalResult } from './eval-result.js';

/** A question as the model side receives it: the problem and its rendered student prompt. */
export interface EvalPrompt {
  readonly problem: Problem;
  /** Plain prompt text (`PLAIN_TEMPLATE` unless another text template is chosen). */
  readonly prompt: string;
}

/** How the maj@k samples are drawn: sample i of a prompt uses `seed + i` (common.proto SamplingParams). */
export interface SampleSettings {
  readonly count: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly seed: number;
}

/**
 * The model under evaluation, batched: the CLI backs it with @verdict/models, the evaluator
 * service with a policy-server client, harness checks with the oracle/wrong pseudo models.
 */
export interface SuiteGenerator {
  /** Identity recorded in results. */
  readonly model: string;
  readonly modelVersion?: string;
  readonly maxNewTokens?: number;
  /** Greedy (temperature 0) completions, one per prompt, in order. */
  greedy(batch: readonly EvalPrompt[]): Promise<string[]>;
  /** `settings.count` sampled completions per prompt, in order. */
  sample?(batch: readonly EvalPrompt[], settings: SampleSettings): Promise<string[][]>;
}

/** Progress after each batch. */
export interface SuiteProgress {
  readonly suite: string;
  readonly done: number;
  readonly total: number;
  /** Greedy strict / flexible accuracy over the questions done so far. */
  readonly runningStrict: number;
  readonly runningFlexible: number;
  readonly elapsedMs: number;
}

export interface RunSuiteEvalOptions {
  readonly suite: string;
  readonly generator: SuiteGenerator;
  /** The first `limit` questions (file order, so runs are comparable). */
  readonly limit?: number;
  /** Samples per question for maj@k; 0 = greedy only. */
  readonly samples?: number;
  /** Votes per maj@k draw (≤ samples); default = samples. */
  readonly k?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly seed?: number;
  /** Questions per generator call. Default 16. */
  readonly batchSize?: number;
  readonly template?: TextTemplate;
  /** Overrides the suite's problems (tests; the suite still names categories). */
  readonly problems?: readonly Problem[];
  readonly readOptions?: ReadOptions;
  readonly onProgress?: (progress: SuiteProgress) => void;
  readonly signal?: AbortSignal;
  /** Clock, injectable for deterministic reports. */
  readonly now?: () => Date;
}

export interface SuiteRunOutput {
  readonly result: EvalResult;
  readonly items: SampledItem[];
}

/** Bad harness input (unknown suite, k > samples...): callers map it to exit 2 / INVALID_ARGUMENT. */
export class EvalArgumentError extends Error {
  readonly code = 'INVALID_ARGUMENT';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'EvalArgumentError';
  }
}

function checkInt(value: number, field: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new EvalArgumentError(`${field} must be an integer >= ${min} (got ${value})`, field);
  }
}

/**
 * The one evaluation harness (`verdict eval` and the evaluator service both call it): loads the
 * suite, renders prompts, asks the generator in batches, scores with the shared checker
 * (`scoreItems`: strict and flexible, unbiased maj@k, per category) and builds the results document.
 */
export async function runSuiteEval(options: RunSuiteEvalOptions): Promise<SuiteRunOutput> {
  const now = options.now ?? (() => new Date());
  let suite: ReturnType<typeof getSuite>;
  try {
    suite = getSuite(options.suite);
  } catch (e) {
    throw new EvalArgumentError((e as Error).message, 'suite');
  }
  const samples = options.samples ?? 0;
  checkInt(samples, 'samples', 0);
  const k = options.k ?? samples;
  if (samples > 0) {
    checkInt(k, 'k', 1);
    if (k > samples) throw new EvalArgumentError(`k must be <= samples (k=${k}, samples=${samples})`, 'k');
    if (options.generator.sample === undefined) {
      throw new EvalArgumentError(`model ${options.generator.model} cannot sample (maj@k)`, 'samples');
    }
  }
  if (options.limit !== undefined) checkInt(options.limit, 'limit', 1);
  const batchSize = options.batchSize ?? 16;
  checkInt(batchSize, 'batch_size', 1);
  const template = options.template ?? PLAIN_TEMPLATE;
  const settings: SampleSettings = {
    count: samples,
    temperature: options.temperature ?? 0.7,
    topP: options.topP ?? 1,
    topK: options.topK ?? 0,
    seed: options.seed ?? 0,
  };

  const startedAt = now();
  const all = options.problems ?? suite.load(options.readOptions);
  const problems = options.limit === undefined ? all : all.slice(0, options.limit);
  const items: SampledItem[] = [];
  let strictCorrect = 0;
  let flexibleCorrect = 0;
  for (let start = 0; start < problems.length; start += batchSize) {
    options.signal?.throwIfAborted();
    const batch: EvalPrompt[] = problems.slice(start, start + batchSize).map((problem) => {
      const rendered: RenderedPrompt = renderStudentPrompt(problem.question, template);
      return { problem, prompt: rendered.kind === 'plain' ? rendered.text : '' };
    });
    const greedy = await options.generator.greedy(batch);
    const sampled = samples > 0 ? await options.generator.sample!(batch, settings) : undefined;
    if (greedy.length !== batch.length || (sampled !== undefined && sampled.length !== batch.length)) {
      throw new Error(`generator returned ${greedy.length} completions for ${batch.length} prompts`);
    }
    batch.forEach(({ problem }, i) => {
      const category = problemCategory(suite, problem);
      const text = greedy[i]!;
      if (checkAnswer(text, problem.answer, 'strict')) strictCorrect++;
      if (checkAnswer(text, problem.answer, 'flexible')) flexibleCorrect++;
      items.push({
        id: problem.id,
        gold: problem.answer,
        greedy: text,
        ...(sampled !== undefined ? { samples: sampled[i]! } : {}),
        ...(category !== undefined ? { category } : {}),
      });
    });
    options.onProgress?.({
      suite: suite.name,
      done: items.length,
      total: problems.length,
      runningStrict: strictCorrect / items.length,
      runningFlexible: flexibleCorrect / items.length,
      elapsedMs: now().getTime() - startedAt.getTime(),
    });
  }
  const scores = scoreItems(items, samples > 0 ? { k } : {});
  const result = toEvalResult(scores, {
    suite: suite.name,
    samples,
    model: options.generator.model,
    ...(options.generator.modelVersion !== undefined ? { modelVersion: options.generator.modelVersion } : {}),
    template: template.name,
    templateVersion: template.version,
    temperature: settings.temperature,
    seed: settings.seed,
    ...(options.generator.maxNewTokens !== undefined ? { maxNewTokens: options.generator.maxNewTokens } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    startedAt,
    finishedAt: now(),
  });
  return { result, items };
}

/** The oracle/wrong pseudo models as a batched generator (samples repeat the same answer). */
export function createPseudoGenerator(pseudo: PseudoModel): SuiteGenerator {
  return {
    model: pseudo.name,
    greedy: async (batch) => batch.map(({ problem }) => pseudo.answer(problem)),
    sample: async (batch, settings) =>
      batch.map(({ problem }) => Array.from({ length: settings.count }, (_, i) => pseudo.answer(problem, i))),
  };
}

/** "gsm8k-test 120/1319 (9.1%) acc 31.7% · 35.2 q/s · ETA 34s": the stderr progress line. */
export function formatSuiteProgress(p: SuiteProgress): string {
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.done / seconds : 0;
  const remaining = p.total - p.done;
  const eta = rate > 0 ? formatDuration(remaining / rate) : '?';
  const share = p.total === 0 ? 100 : (100 * p.done) / p.total;
  return (
    `${p.suite} ${p.done}/${p.total} (${share.toFixed(1)}%) acc ${(100 * p.runningStrict).toFixed(1)}% ` +
    `· ${rate.toFixed(1)} q/s · ETA ${eta}`
  );
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
