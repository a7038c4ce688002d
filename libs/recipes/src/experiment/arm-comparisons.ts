import {
  type AccuracyEstimate,
  accuracyInterval,
  comparePaired,
  DEFAULT_BOOTSTRAP_RESAMPLES,
  type PairedComparison,
} from '@verdict/data';
import type { ArmSpec } from './arms.js';
import type { ArmSeedResult, SuiteScore } from './results.js';

/** Which suite and which score two arms are compared on. */
export type EvalSuiteKey = 'id' | 'ood';
export type EvalMetric = 'greedy' | 'meanAtK' | 'majAtK';
export const EVAL_SUITES: readonly EvalSuiteKey[] = ['id', 'ood'];
export const EVAL_METRICS: readonly EvalMetric[] = ['greedy', 'meanAtK', 'majAtK'];
/** The arms every other arm is compared with, problem by problem. */
export const BASELINE_ARMS = ['rlvr-grpo', 'sft'] as const;

/** One arm's accuracies with their 95 % intervals (null where the run carried no per-problem scores). */
export type ArmIntervals = Record<EvalSuiteKey, Record<EvalMetric, AccuracyEstimate | null>>;

/** Arm − baseline on the same problems: the paired bootstrap interval, the p-value and the seeds pooled. */
export interface ArmComparison extends PairedComparison {
  readonly armId: string;
  readonly baselineId: string;
  readonly suite: EvalSuiteKey;
  readonly metric: EvalMetric;
  /** Seeds both arms ran; each problem's score is its mean over these seeds. */
  readonly seeds: readonly number[];
}

/** How the intervals were made (recorded in results.json). */
export const COMPARISON_METHOD = {
  level: 0.95,
  resamples: DEFAULT_BOOTSTRAP_RESAMPLES,
  single:
    'Wilson for 0/1 per-problem scores (greedy, one seed); t interval of the per-problem mean otherwise',
  paired:
    'paired bootstrap over problems (percentile interval, seeded); p: exact McNemar mid-p for 0/1 scores, paired t otherwise; several seeds: each problem scored by its mean over the seeds both arms ran, so the interval covers the evaluation problems, not the training-seed spread (shown separately as ±)',
} as const;

function scoresOf(s: SuiteScore, metric: EvalMetric): readonly number[] | undefined {
  const p = s.problems;
  if (p === undefined) return undefined;
  const xs = metric === 'greedy' ? p.greedy : metric === 'meanAtK' ? p.meanAtK : p.majAtK;
  return xs.length === p.ids.length && xs.length > 0 ? xs : undefined;
}

/**
 * Each problem's score averaged over runs, or undefined when a run has no per-problem scores or
 * the runs scored different problems (then nothing can be paired).
 */
export function pooledScores(
  runs: readonly ArmSeedResult[],
  suite: EvalSuiteKey,
  metric: EvalMetric,
): { ids: readonly string[]; scores: number[] } | undefined {
  if (runs.length === 0) return undefined;
  const ids = runs[0]!.eval[suite].problems?.ids;
  if (ids === undefined) return undefined;
  const rows: (readonly number[])[] = [];
  for (const r of runs) {
    const s = r.eval[suite];
    const xs = scoresOf(s, metric);
    const rIds = s.problems?.ids;
    if (xs === undefined || rIds === undefined || rIds.length !== ids.length) return undefined;
    if (rIds.some((id, i) => id !== ids[i])) return undefined;
    rows.push(xs);
  }
  const scores = meanPerProblem(rows);
  return scores === undefined ? undefined : { ids, scores };
}

/** Each problem's score averaged over runs (rows in the same problem order); undefined when none or the lengths differ. */
export function meanPerProblem(rows: readonly (readonly number[])[]): number[] | undefined {
  const n = rows[0]?.length;
  if (n === undefined || rows.some((r) => r.length !== n)) return undefined;
  return Array.from({ length: n }, (_, i) => rows.reduce((a, r) => a + r[i]!, 0) / rows.length);
}

/** One arm's accuracy intervals per suite and metric, from its runs' per-problem scores. */
export function armIntervals(runs: readonly ArmSeedResult[]): ArmIntervals {
  const out = {} as Record<EvalSuiteKey, Record<EvalMetric, AccuracyEstimate | null>>;
  for (const suite of EVAL_SUITES) {
    const row = {} as Record<EvalMetric, AccuracyEstimate | null>;
    for (const metric of EVAL_METRICS) {
      const pooled = pooledScores(runs, suite, metric);
      row[metric] = pooled === undefined ? null : accuracyInterval(pooled.scores, COMPARISON_METHOD.level);
    }
    out[suite] = row;
  }
  return out;
}

/**
 * Every arm against RLVR and against SFT (when they ran), per suite and metric, problem by problem.
 * The bootstrap seed is derived from the pair's names, so the same runs give the same intervals.
 * `cache` (keyed by arm, baseline, suite, metric and seeds) spares recomputing unchanged pairs when
 * the results are rewritten after every arm.
 */
export function compareArms(
  arms: readonly ArmSpec[],
  runs: readonly ArmSeedResult[],
  options: { readonly resamples?: number; readonly cache?: Map<string, ArmComparison> } = {},
): ArmComparison[] {
  const out: ArmComparison[] = [];
  for (const baselineId of BASELINE_ARMS) {
    const baseRuns = runs.filter((r) => r.armId === baselineId);
    if (baseRuns.length === 0) continue;
    for (const arm of arms) {
      if (arm.id === baselineId) continue;
      const armRuns = runs.filter((r) => r.armId === arm.id);
      const seeds = armRuns.map((r) => r.seed).filter((s) => baseRuns.some((b) => b.seed === s));
      if (seeds.length === 0) continue;
      const mine = armRuns.filter((r) => seeds.includes(r.seed));
      const theirs = baseRuns.filter((r) => seeds.includes(r.seed));
      for (const suite of EVAL_SUITES) {
        for (const metric of EVAL_METRICS) {
          const key = `${arm.id}|${baselineId}|${suite}|${metric}|${seeds.join(',')}`;
          const cached = options.cache?.get(key);
          if (cached !== undefined) {
            out.push(cached);
            continue;
          }
          const a = pooledScores(mine, suite, metric);
          const b = pooledScores(theirs, suite, metric);
          if (a === undefined || b === undefined || a.ids.join('\n') !== b.ids.join('\n')) continue;
          const c: ArmComparison = {
            armId: arm.id,
            baselineId,
            suite,
            metric,
            seeds,
            ...comparePaired(a.scores, b.scores, {
              level: COMPARISON_METHOD.level,
              resamples: options.resamples ?? COMPARISON_METHOD.resamples,
              seed: key,
            }),
          };
          options.cache?.set(key, c);
          out.push(c);
        }
      }
    }
  }
  return out;
}

const signedPoints = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
const points = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '?');

/** "+1.2 [−0.8, +3.1] p=0.24": a difference in points with its paired interval and p-value. */
export function formatComparisonCell(c: ArmComparison | undefined): string {
  return c === undefined ? '—' : formatPairedDiff(c);
}

/** A paired difference in points: "+1.2 [−0.8, +3.1] p=0.24". */
export function formatPairedDiff(c: PairedComparison): string {
  const p = Number.isNaN(c.p) ? 'p=?' : c.p < 0.001 ? 'p<0.001' : `p=${c.p.toFixed(3)}`;
  return `${signedPoints(c.diff)} [${signedPoints(c.lo)}, ${signedPoints(c.hi)}] ${p}`;
}

/** "[23.4, 28.8]": an accuracy interval in points. */
export function formatIntervalSuffix(e: AccuracyEstimate | null | undefined): string {
  return e === null || e === undefined ? '' : ` [${points(e.lo)}, ${points(e.hi)}]`;
}

const METRIC_LABEL = (metric: EvalMetric, k: number) =>
  metric === 'greedy' ? 'greedy' : metric === 'meanAtK' ? `mean@${k}` : `maj@${k}`;

/**
 * The paired table: one row per (arm, baseline), one column per suite × metric, each cell the
 * difference in points with its paired 95 % interval and p-value. Empty when nothing pairs.
 */
export function comparisonTableRows(
  arms: readonly ArmSpec[],
  comparisons: readonly ArmComparison[],
  k: number,
): string[][] {
  const header = [
    'paired difference (points)',
    ...EVAL_SUITES.flatMap((suite) =>
      EVAL_METRICS.map((m) => `${suite === 'id' ? 'in-domain' : 'held-out tmpl'} ${METRIC_LABEL(m, k)}`),
    ),
  ];
  const label = (id: string) => arms.find((a) => a.id === id)?.label ?? id;
  const rows: string[][] = [];
  for (const baselineId of BASELINE_ARMS) {
    for (const arm of arms) {
      const mine = comparisons.filter((c) => c.armId === arm.id && c.baselineId === baselineId);
      if (mine.length === 0) continue;
      rows.push([
        `${label(arm.id)} − ${baselineId === 'sft' ? 'SFT' : 'RLVR'}`,
        ...EVAL_SUITES.flatMap((suite) =>
          EVAL_METRICS.map((metric) =>
            formatComparisonCell(mine.find((c) => c.suite === suite && c.metric === metric)),
          ),
        ),
      ]);
    }
  }
  return rows.length === 0 ? [] : [header, ...rows];
}
