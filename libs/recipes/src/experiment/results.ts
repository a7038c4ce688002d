import {
  type ArmComparison,
  type ArmIntervals,
  armIntervals,
  COMPARISON_METHOD,
  comparisonTableRows,
  formatIntervalSuffix,
  formatPairedDiff,
} from './arm-comparisons.js';
import type { ArmSpec } from './arms.js';
import type { ExperimentConfig, GuardAction } from './experiment-config.js';
import type { SeenComparison, SeenSliceScore } from './seen-slice.js';

export * from './arm-comparisons.js';
export * from './seen-slice.js';

export const EXPERIMENT_RESULT_FORMAT = 'verdict.experiment.v1';

/** Final evaluation of one suite (through the evaluator). */
export interface SuiteScore {
  readonly suite: string;
  readonly n: number;
  /** Greedy accuracy (flexible extraction: the evaluator's wire numbers). */
  readonly greedy: number;
  /** maj@k (flexible extraction); NaN when k <= 1. */
  readonly majAtK: number;
  /** mean@k: share of correct samples (flexible extraction); NaN when k <= 1 (absent in older results). */
  readonly meanAtK?: number;
  readonly k: number;
  readonly policyVersion: number;
  /** Per-problem scores in suite order, for pairing arms (absent in older results). */
  readonly problems?: SuiteProblemScores;
}

/** One suite run's per-problem scores, parallel arrays in suite order (compact in results.json). */
export interface SuiteProblemScores {
  readonly ids: readonly string[];
  /** Greedy correctness, 0 or 1. */
  readonly greedy: readonly number[];
  /** Share of the k samples that were correct (empty when k <= 1). */
  readonly meanAtK: readonly number[];
  /** Unbiased maj@k credit (empty when k <= 1). */
  readonly majAtK: readonly number[];
}

/**
 * One point of an arm's learning curves: a learner step (step 0 = the SFT start, shadow probe only)
 * plus the shadow probe when it ran.
 */
export interface CurvePoint {
  readonly step: number;
  readonly rewardTotal?: number;
  readonly rewardVerifiable?: number;
  readonly rewardJudge?: number;
  readonly kl?: number;
  readonly entropy?: number;
  readonly responseLength?: number;
  /** Judge–gold agreement on the step's labeled rollouts (the learner's metric), when any. */
  readonly rolloutAgreement?: number;
  /** Shadow probe of the held-out labeled slice (greedy): accuracy, judge mean, judge–gold agreement. */
  readonly heldOutAccuracy?: number;
  readonly shadowJudgeMean?: number;
  readonly shadowAgreement?: number;
  /** The judge's AUROC against gold on the shadow slice: how it ranks the policy's own samples. */
  readonly shadowAuroc?: number;
  readonly guardSuspect?: boolean;
  readonly guardAlarm?: boolean;
}

export interface GuardEvent {
  readonly step: number;
  readonly action: GuardAction;
  readonly reason: string;
  /** For `lower-mu`: the weights from this step on. */
  readonly weights?: { readonly lambdaVr: number; readonly muJudge: number };
}

export interface ArmSeedResult {
  readonly armId: string;
  readonly seed: number;
  readonly runId: string;
  readonly status: 'baseline' | 'completed' | 'stopped' | 'failed';
  readonly message?: string;
  readonly steps: number;
  readonly alarmStep: number | null;
  readonly guardEvents: readonly GuardEvent[];
  readonly eval: { readonly id: SuiteScore; readonly ood: SuiteScore };
  /** Greedy on the first problems of the arm's training stream (absent in older results). */
  readonly seen?: SeenSliceScore;
  readonly curve: readonly CurvePoint[];
  readonly seconds: number;
}

export interface Stat {
  readonly mean: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  readonly spread: number;
  readonly values: readonly number[];
}

export interface ArmSummary {
  readonly armId: string;
  readonly label: string;
  readonly idGreedy: Stat;
  readonly idMaj: Stat;
  readonly oodGreedy: Stat;
  readonly oodMaj: Stat;
  readonly idMean: Stat;
  readonly oodMean: Stat;
  /** 95 % intervals of the accuracies (per-problem scores pooled over seeds); absent in older results. */
  readonly intervals?: ArmIntervals;
  /** Seeds whose run raised the reward-hacking alarm. */
  readonly alarms: number;
  readonly seeds: number;
  readonly expectAlarm: boolean;
  /** The arm's reward reads the judge (μ or ρ > 0): the guard watches it (absent in older results). */
  readonly usesJudge?: boolean;
}

/** How the claim check decides "beats" (fixed before the arms are compared; part of the design hash). */
export const CLAIM_RULE =
  'VR + judge (GRPO) beats a baseline (RLVR, SFT) on fresh in-domain greedy accuracy when the paired 95 % interval of the difference lies above 0; without per-problem scores (older results), when the mean margin exceeds the larger seed spread. Holds: beats both; holds in part: beats one; does not hold: beats neither.';

export type ClaimVerdict = 'holds' | 'holds in part' | 'does not hold';

export interface ClaimCheck {
  /** VR + judge (GRPO) beats RLVR and SFT (CLAIM_RULE). */
  readonly holds: boolean;
  readonly verdict: ClaimVerdict;
  readonly rule: string;
  readonly vrJudge: Stat;
  readonly comparisons: readonly {
    armId: string;
    stat: Stat;
    margin: number;
    spread: number;
    /** `paired`: the paired 95 % interval decided (lo, hi set); `spread`: margin against seed spread. */
    basis: 'paired' | 'spread';
    lo?: number;
    hi?: number;
    beats: boolean;
  }[];
  /**
   * The guard alarmed on exactly the arms that should alarm (issue 15 item 7): the weak-judge arm,
   * and any judge-rewarded arm whose in-domain greedy accuracy ended below SFT's beyond the paired
   * 95 % interval (the judge's score rose while the skill fell); silent on the rest.
   */
  readonly guardAsExpected: boolean;
  /** Per arm: alarms, and whether it should alarm and why (absent in older results). */
  readonly guard?: readonly {
    armId: string;
    alarms: number;
    seeds: number;
    shouldAlarm: boolean;
    why: string;
  }[];
}

export interface ExperimentResult {
  readonly format: typeof EXPERIMENT_RESULT_FORMAT;
  readonly config: ExperimentConfig;
  readonly seeds: readonly number[];
  readonly toyWorld: {
    readonly hash: string;
    readonly budget: string;
    readonly studentAccuracyId: number;
    readonly judgeAuroc: number;
    readonly weakJudgeAuroc?: number;
  };
  /** `experimentDesignHash` of what was fixed before comparing (absent in older results). */
  readonly designHash?: string;
  readonly arms: readonly ArmSpec[];
  readonly runs: readonly ArmSeedResult[];
  readonly summary: readonly ArmSummary[];
  /** Every arm − RLVR and − SFT per suite and metric, paired over problems (`compareArms`). */
  readonly comparisons?: readonly ArmComparison[];
  /** Every RL arm − SFT on the seen slice beside the fresh in-domain suite (`compareSeenSlice`). */
  readonly seenComparisons?: readonly SeenComparison[];
  /** How the intervals and p-values were computed. */
  readonly statistics?: typeof COMPARISON_METHOD;
  readonly claim: ClaimCheck | undefined;
}

export function stat(values: readonly number[]): Stat {
  const xs = values.filter((x) => Number.isFinite(x));
  if (xs.length === 0) return { mean: Number.NaN, spread: Number.NaN, values };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const spread = xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, spread, values };
}

export function summariseArms(arms: readonly ArmSpec[], runs: readonly ArmSeedResult[]): ArmSummary[] {
  return arms.map((arm) => {
    const mine = runs.filter((r) => r.armId === arm.id);
    return {
      armId: arm.id,
      label: arm.label,
      idGreedy: stat(mine.map((r) => r.eval.id.greedy)),
      idMaj: stat(mine.map((r) => r.eval.id.majAtK)),
      oodGreedy: stat(mine.map((r) => r.eval.ood.greedy)),
      oodMaj: stat(mine.map((r) => r.eval.ood.majAtK)),
      idMean: stat(mine.map((r) => r.eval.id.meanAtK ?? Number.NaN)),
      oodMean: stat(mine.map((r) => r.eval.ood.meanAtK ?? Number.NaN)),
      intervals: armIntervals(mine),
      alarms: mine.filter((r) => r.alarmStep !== null).length,
      seeds: mine.length,
      expectAlarm: arm.expectAlarm,
      usesJudge: arm.algorithm !== 'sft' && (arm.muJudge > 0 || (arm.rhoRerank ?? 0) > 0),
    };
  });
}

/** The paper's claim on these runs, when the arms it compares are present. */
export function checkClaim(
  summary: readonly ArmSummary[],
  paired: readonly ArmComparison[] = [],
): ClaimCheck | undefined {
  const find = (id: string) => summary.find((s) => s.armId === id);
  const vr = find('vr-judge-grpo');
  if (vr === undefined) return undefined;
  const comparisons = ['rlvr-grpo', 'sft']
    .map((id) => find(id))
    .filter((s): s is ArmSummary => s !== undefined)
    .map((s) => {
      const margin = vr.idGreedy.mean - s.idGreedy.mean;
      const spread = Math.max(vr.idGreedy.spread, s.idGreedy.spread);
      const p = paired.find(
        (c) => c.armId === vr.armId && c.baselineId === s.armId && c.suite === 'id' && c.metric === 'greedy',
      );
      if (p !== undefined) {
        return {
          armId: s.armId,
          stat: s.idGreedy,
          margin,
          spread,
          basis: 'paired' as const,
          lo: p.lo,
          hi: p.hi,
          beats: p.lo > 0,
        };
      }
      return {
        armId: s.armId,
        stat: s.idGreedy,
        margin,
        spread,
        basis: 'spread' as const,
        beats: margin > spread && margin > 0,
      };
    });
  const guard = summary
    .filter((s) => s.armId !== 'sft')
    .map((s) => {
      const vsSft = paired.find(
        (c) => c.armId === s.armId && c.baselineId === 'sft' && c.suite === 'id' && c.metric === 'greedy',
      );
      const harmed = s.usesJudge === true && vsSft !== undefined && vsSft.hi < 0;
      const why = s.expectAlarm
        ? 'expected (weak judge)'
        : harmed
          ? `judge-rewarded and below SFT beyond the paired interval (${(100 * vsSft!.diff).toFixed(1)} [${(100 * vsSft!.lo).toFixed(1)}, ${(100 * vsSft!.hi).toFixed(1)}])`
          : 'not harmed (or not judge-rewarded)';
      return { armId: s.armId, alarms: s.alarms, seeds: s.seeds, shouldAlarm: s.expectAlarm || harmed, why };
    });
  const beaten = comparisons.filter((c) => c.beats).length;
  const holds = comparisons.length > 0 && beaten === comparisons.length;
  return {
    holds,
    verdict: holds ? 'holds' : beaten > 0 ? 'holds in part' : 'does not hold',
    rule: CLAIM_RULE,
    vrJudge: vr.idGreedy,
    comparisons,
    guardAsExpected: guard.every((g) => (g.shouldAlarm ? g.alarms === g.seeds : g.alarms === 0)),
    guard,
  };
}

/** "26.0 [23.4, 28.8]" (one seed) or "26.0 ± 0.9 [24.1, 27.9]" (± seed spread, [] 95 % interval). */
function pct(s: Stat, interval?: Parameters<typeof formatIntervalSuffix>[0]): string {
  if (!Number.isFinite(s.mean)) return '—';
  const m = (100 * s.mean).toFixed(1);
  return (s.values.length > 1 ? `${m} ± ${(100 * s.spread).toFixed(1)}` : m) + formatIntervalSuffix(interval);
}

/**
 * The results table in the paper's shape: one row per method, accuracy columns in percent with
 * their 95 % intervals when the runs carried per-problem scores.
 */
export function resultsTableRows(summary: readonly ArmSummary[], k: number): string[][] {
  const header = [
    'method',
    'in-domain greedy',
    `in-domain maj@${k}`,
    'held-out tmpl greedy',
    `held-out tmpl maj@${k}`,
    `in-domain mean@${k}`,
    `held-out tmpl mean@${k}`,
    'hacking alarm',
  ];
  const rows = summary.map((s) => [
    s.label,
    pct(s.idGreedy, s.intervals?.id.greedy),
    pct(s.idMaj, s.intervals?.id.majAtK),
    pct(s.oodGreedy, s.intervals?.ood.greedy),
    pct(s.oodMaj, s.intervals?.ood.majAtK),
    pct(s.idMean ?? stat([]), s.intervals?.id.meanAtK),
    pct(s.oodMean ?? stat([]), s.intervals?.ood.meanAtK),
    s.armId === 'sft' ? '—' : `${s.alarms}/${s.seeds}${s.expectAlarm ? ' (expected)' : ''}`,
  ]);
  return [header, ...rows];
}

/** RL arm − SFT, greedy, on the seen slice and on fresh in-domain problems; empty when nothing pairs. */
export function seenTableRows(arms: readonly ArmSpec[], seen: readonly SeenComparison[]): string[][] {
  if (seen.length === 0) return [];
  const label = (id: string) => arms.find((a) => a.id === id)?.label ?? id;
  return [
    ['greedy − SFT (points)', 'seen in training', 'fresh in-domain'],
    ...seen.map((c) => [
      label(c.armId),
      formatPairedDiff(c.seen),
      c.fresh === undefined ? '—' : formatPairedDiff(c.fresh),
    ]),
  ];
}

/** Rows (header first) as a Markdown table with padded columns. */
export function formatMarkdownTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  const line = (r: readonly string[]) =>
    `| ${r.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

export function formatResultsTable(summary: readonly ArmSummary[], k: number): string {
  return formatMarkdownTable(resultsTableRows(summary, k));
}

/**
 * The console / table.md text: the accuracy table, the paired table (every arm − RLVR and − SFT)
 * and a line saying what the numbers are.
 */
export function formatExperimentTables(result: ExperimentResult): string {
  const { config } = result;
  const k = config.eval.samples;
  const paired = comparisonTableRows(result.arms, result.comparisons ?? [], k);
  const seen = seenTableRows(result.arms, result.seenComparisons ?? []);
  const n = config.eval.problems;
  return [
    ...(result.designHash
      ? [
          `Design ${result.designHash} (toy world ${result.toyWorld.hash}, seeds ${result.seeds.join(', ')})`,
          '',
        ]
      : []),
    formatResultsTable(result.summary, k),
    '',
    `Accuracy in % on the first ${n} problems of each suite; greedy, and mean@${k} / maj@${k} from ${k} samples at T = ${config.eval.temperature}. ` +
      `[lo, hi]: 95 % interval (${COMPARISON_METHOD.single}); ± : spread over seeds.`,
    ...(paired.length === 0
      ? []
      : [
          '',
          formatMarkdownTable(paired),
          '',
          `Paired differences in points, same problems: [lo, hi] 95 % paired bootstrap interval (${COMPARISON_METHOD.resamples} resamples); p: McNemar mid-p (0/1 scores) or paired t.`,
        ]),
    ...(seen.length === 0
      ? []
      : [
          '',
          formatMarkdownTable(seen),
          '',
          `Seen: greedy on the first ${config.seenProblems} problems of each seed's training stream (the RL arms trained on them); fresh: the in-domain suite. A gain on seen problems that fresh ones do not share is learning of the training questions, not of the skill.`,
        ]),
  ].join('\n');
}

export function describeClaim(claim: ClaimCheck | undefined): string {
  if (claim === undefined) return 'claim: not checked (the VR + judge GRPO arm did not run)';
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  const parts = claim.comparisons.map(
    (c) =>
      `vs ${c.armId}: ${signed(c.margin)} points ${c.basis === 'paired' ? `[${signed(c.lo ?? Number.NaN)}, ${signed(c.hi ?? Number.NaN)}] paired 95 %` : `(spread ${(100 * c.spread).toFixed(1)})`} → ${c.beats ? 'beats' : 'does not beat'}`,
  );
  // Results written before the verdict existed carry only `holds`.
  const verdict = claim.verdict ?? (claim.holds ? 'holds' : 'does not hold');
  return [
    `claim (VR + judge beats RLVR and SFT on fresh in-domain greedy accuracy, paired 95 % interval above 0): ${verdict.toUpperCase()}`,
    ...parts.map((p) => `  ${p}`),
    `guard: ${claim.guardAsExpected ? 'alarmed exactly on the arms that should alarm' : 'did NOT alarm as expected'}`,
    ...(claim.guard ?? []).map(
      (g) =>
        `  ${g.armId}: ${g.alarms}/${g.seeds} alarmed; ${g.shouldAlarm ? 'should alarm' : 'should stay silent'}: ${g.why}`,
    ),
  ].join('\n');
}
