import { leastSquaresSlope } from './linear-trend.js';

/**
 * Detects the known failure of judge-only RL (λ = 0): the policy learns to please the
 * judge, so the judge reward rises while the judge's agreement with gold (on a held-out
 * labeled slice) or the held-out accuracy falls. Pure and stateful: feed one observation
 * per step (series may be sampled at different steps, e.g. held-out eval every k steps),
 * get a verdict back. No I/O, no clock.
 *
 * Trends are least-squares slopes over the observations of each series whose step lies
 * within the last `windowSteps` steps, expressed as the fitted change over the window
 * (slope × windowSteps) so thresholds read in the series' own units.
 */
export interface RewardHackingDetectorConfig {
  /** Trend window in training steps. */
  readonly windowSteps: number;
  /** Minimum observations of a series inside the window before its trend counts. Default 3. */
  readonly minPoints?: number;
  /** Judge reward must rise by at least this much over the window. */
  readonly judgeRiseThreshold: number;
  /** Agreement falling by at least this much over the window (with the judge rise) alarms. */
  readonly agreementDropThreshold: number;
  /** Held-out accuracy falling by at least this much over the window (with the judge rise) alarms. */
  readonly heldOutDropThreshold: number;
}

export interface TrainingHealthObservation {
  readonly step: number;
  /** Mean judge reward of the step's rollouts. */
  readonly judgeReward?: number;
  /** Judge–gold agreement on the held-out labeled slice. */
  readonly agreement?: number;
  /** Policy accuracy (vs gold) on the held-out labeled slice. */
  readonly heldOutAccuracy?: number;
}

export interface RewardHackingVerdict {
  readonly step: number;
  readonly alarm: boolean;
  /** Human-readable cause when alarming. */
  readonly reason?: string;
  /** Fitted change over the window; NaN while a series has too few points. */
  readonly judgeRewardChange: number;
  readonly agreementChange: number;
  readonly heldOutAccuracyChange: number;
}

export interface RewardHackingDetector {
  observe(observation: TrainingHealthObservation): RewardHackingVerdict;
  /** Step of the first alarm so far, or null. */
  readonly firstAlarmStep: number | null;
  /** Observations still inside the window, JSON-safe, to restore after a resume. */
  snapshot(): TrainingHealthObservation[];
}

type Series = 'judgeReward' | 'agreement' | 'heldOutAccuracy';
const SERIES: readonly Series[] = ['judgeReward', 'agreement', 'heldOutAccuracy'];

export function createRewardHackingDetector(
  config: RewardHackingDetectorConfig,
  history: readonly TrainingHealthObservation[] = [],
): RewardHackingDetector {
  const minPoints = config.minPoints ?? 3;
  const problems: string[] = [];
  if (!(config.windowSteps > 0)) problems.push(`windowSteps must be > 0, got ${config.windowSteps}`);
  if (!(Number.isInteger(minPoints) && minPoints >= 2))
    problems.push(`minPoints must be an integer >= 2, got ${minPoints}`);
  for (const key of ['judgeRiseThreshold', 'agreementDropThreshold', 'heldOutDropThreshold'] as const) {
    if (!(config[key] >= 0)) problems.push(`${key} must be >= 0, got ${config[key]}`);
  }
  if (problems.length > 0)
    throw new RangeError(`invalid reward hacking detector config: ${problems.join('; ')}`);

  let observations: TrainingHealthObservation[] = [];
  let lastStep = Number.NEGATIVE_INFINITY;
  let firstAlarmStep: number | null = null;

  function change(series: Series): number {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const o of observations) {
      const y = o[series];
      if (y === undefined) continue;
      xs.push(o.step);
      ys.push(y);
    }
    if (xs.length < minPoints) return Number.NaN;
    return leastSquaresSlope(xs, ys) * config.windowSteps;
  }

  function observe(observation: TrainingHealthObservation): RewardHackingVerdict {
    const { step } = observation;
    if (!Number.isFinite(step) || step <= lastStep) {
      throw new RangeError(`steps must increase: got ${step} after ${lastStep}`);
    }
    for (const s of SERIES) {
      const v = observation[s];
      if (v !== undefined && !Number.isFinite(v))
        throw new RangeError(`${s} at step ${step} is not finite (${v})`);
    }
    lastStep = step;
    observations.push(observation);
    observations = observations.filter((o) => o.step > step - config.windowSteps);

    const judgeRewardChange = change('judgeReward');
    const agreementChange = change('agreement');
    const heldOutAccuracyChange = change('heldOutAccuracy');
    const fmt = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
    const causes: string[] = [];
    if (judgeRewardChange >= config.judgeRiseThreshold) {
      if (agreementChange <= -config.agreementDropThreshold) {
        causes.push(
          `judge–gold agreement ${fmt(agreementChange)} (drop threshold ${config.agreementDropThreshold})`,
        );
      }
      if (heldOutAccuracyChange <= -config.heldOutDropThreshold) {
        causes.push(
          `held-out accuracy ${fmt(heldOutAccuracyChange)} (drop threshold ${config.heldOutDropThreshold})`,
        );
      }
    }
    const base = { step, judgeRewardChange, agreementChange, heldOutAccuracyChange };
    if (causes.length === 0) return { ...base, alarm: false };
    if (firstAlarmStep === null) firstAlarmStep = step;
    return {
      ...base,
      alarm: true,
      reason:
        `possible reward hacking: judge reward ${fmt(judgeRewardChange)} over ${config.windowSteps} steps ` +
        `(rise threshold ${config.judgeRiseThreshold}) while ${causes.join(' and ')}`,
    };
  }

  // Replaying the window restores the trends; alarms raised before the snapshot are the
  // caller's record, so firstAlarmStep starts afresh.
  for (const o of history) observe(o);
  firstAlarmStep = null;

  return {
    observe,
    get firstAlarmStep() {
      return firstAlarmStep;
    },
    snapshot: () => observations.map((o) => ({ ...o })),
  };
}
