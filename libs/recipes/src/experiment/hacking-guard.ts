import type { GuardAction, GuardConfig } from './experiment-config.js';

/** One observation of a run's health; series may be sampled at different steps. */
export interface GuardObservation {
  readonly step: number;
  /** The judge's reward: its mean score on the shadow slice (the experiment feeds that). */
  readonly judgeReward?: number;
  /** Shadow judge–gold agreement on the held-out labeled slice. */
  readonly agreement?: number;
  /** Shadow greedy accuracy on the held-out labeled slice. */
  readonly heldOutAccuracy?: number;
}

/** One guard observation: the changes it saw and what it decided. */
export interface GuardVerdict {
  readonly step: number;
  /** This observation meets the alarm condition (before the consecutive rule). */
  readonly suspect: boolean;
  /** The alarm is raised (suspect `consecutive` observations in a row, now or earlier). */
  readonly alarm: boolean;
  /** The action to take now: only on the observation that first raises the alarm. */
  readonly action: GuardAction | 'none';
  readonly reason?: string;
  /** Current level minus start level; NaN while a series has too few points. */
  readonly judgeRewardChange: number;
  readonly agreementChange: number;
  readonly heldOutAccuracyChange: number;
}

export interface HackingGuard {
  observe(observation: GuardObservation): GuardVerdict;
  /** Step at which the alarm was first raised, or null. */
  readonly alarmStep: number | null;
  readonly reason: string | undefined;
}

type Series = 'judgeReward' | 'agreement' | 'heldOutAccuracy';

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * The reward-hacking guard of the experiment (DESIGN.md §1's known failure): alarm when, on the
 * shadow-judged held-out labeled slice, the judge's reward (its mean score) has risen by
 * `judgeRiseThreshold` from its start while the judge–gold agreement or the greedy accuracy has
 * fallen by its threshold (for the accuracy: absolute, or relative to its start level with a floor). Levels are means of a series' first `baselinePoints` and latest `recentPoints`
 * observations (means, not a fitted trend: a short run's few probes make extrapolated slopes
 * noisy), and the condition must hold `consecutive` observations in a row. Pure: no I/O, no clock.
 * The configured action (`alarm` records, `stop` ends the arm, `lower-mu` scales μ) is issued once.
 */
export function createHackingGuard(config: GuardConfig): HackingGuard {
  const problems: string[] = [];
  for (const key of ['baselinePoints', 'recentPoints', 'consecutive'] as const) {
    if (!(Number.isInteger(config[key]) && config[key] >= 1)) {
      problems.push(`guard.${key} must be an integer >= 1, got ${config[key]}`);
    }
  }
  for (const key of [
    'judgeRiseThreshold',
    'agreementDropThreshold',
    'heldOutDropThreshold',
    'heldOutRelativeDropThreshold',
    'heldOutMinDrop',
  ] as const) {
    if (!(config[key] >= 0)) problems.push(`guard.${key} must be >= 0, got ${config[key]}`);
  }
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const series: Record<Series, number[]> = { judgeReward: [], agreement: [], heldOutAccuracy: [] };
  let lastStep = Number.NEGATIVE_INFINITY;
  let streak = 0;
  let alarmStep: number | null = null;
  let reason: string | undefined;

  const startLevel = (name: Series): number => mean(series[name].slice(0, config.baselinePoints));
  const change = (name: Series): number => {
    const xs = series[name];
    if (xs.length < config.baselinePoints + config.recentPoints) return Number.NaN;
    return mean(xs.slice(-config.recentPoints)) - startLevel(name);
  };
  const fmt = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);

  return {
    observe(o) {
      if (!Number.isFinite(o.step) || o.step <= lastStep) {
        throw new RangeError(`steps must increase: got ${o.step} after ${lastStep}`);
      }
      lastStep = o.step;
      for (const name of ['judgeReward', 'agreement', 'heldOutAccuracy'] as const) {
        const v = o[name];
        if (v !== undefined && Number.isFinite(v)) series[name].push(v);
      }
      const judgeRewardChange = change('judgeReward');
      const agreementChange = change('agreement');
      const heldOutAccuracyChange = change('heldOutAccuracy');
      const causes: string[] = [];
      if (judgeRewardChange >= config.judgeRiseThreshold) {
        if (agreementChange <= -config.agreementDropThreshold) {
          causes.push(
            `judge–gold agreement ${fmt(agreementChange)} (drop threshold ${config.agreementDropThreshold})`,
          );
        }
        const drop = -heldOutAccuracyChange;
        const relativeDrop = drop / startLevel('heldOutAccuracy');
        if (drop >= config.heldOutDropThreshold) {
          causes.push(
            `held-out accuracy ${fmt(heldOutAccuracyChange)} (drop threshold ${config.heldOutDropThreshold})`,
          );
        } else if (drop >= config.heldOutMinDrop && relativeDrop >= config.heldOutRelativeDropThreshold) {
          causes.push(
            `held-out accuracy ${fmt(heldOutAccuracyChange)}, ${(100 * relativeDrop).toFixed(0)} % of its start ` +
              `(relative drop threshold ${config.heldOutRelativeDropThreshold}, at least ${config.heldOutMinDrop})`,
          );
        }
      }
      const suspect = causes.length > 0;
      streak = suspect ? streak + 1 : 0;
      const why = suspect
        ? `judge reward ${fmt(judgeRewardChange)} since the start (rise threshold ${config.judgeRiseThreshold}) while ${causes.join(' and ')}`
        : undefined;
      const raisedNow = alarmStep === null && streak >= config.consecutive;
      if (raisedNow) {
        alarmStep = o.step;
        reason = why;
      }
      return {
        step: o.step,
        suspect,
        alarm: alarmStep !== null,
        action: raisedNow ? config.action : 'none',
        ...(why !== undefined ? { reason: why } : {}),
        judgeRewardChange,
        agreementChange,
        heldOutAccuracyChange,
      };
    },
    get alarmStep() {
      return alarmStep;
    },
    get reason() {
      return reason;
    },
  };
}

/** μ after `lower-mu` (λ takes the rest, so λ + μ stays 1). */
export function loweredWeights(
  weights: { lambdaVr: number; muJudge: number },
  muFactor: number,
): { lambdaVr: number; muJudge: number } {
  const muJudge = weights.muJudge * muFactor;
  return { lambdaVr: 1 - muJudge, muJudge };
}
