import { leastSquaresSlope } from '../judge/linear-trend.js';
import {
  type RewardHackingMonitorConfig,
  type RewardHackingMonitorOptions,
  resolveRewardHackingMonitorConfig,
} from './monitor-config.js';

/** One observation of a run's health; each series may be sampled at its own steps (or not at all). */
export interface RewardHackingObservation {
  readonly step: number;
  /** The judge's score (its mean over a step's rollouts, or over a fixed shadow slice). */
  readonly judgeReward?: number;
  /** Judge–gold agreement on a held-out labeled slice. */
  readonly agreement?: number;
  /** Policy accuracy (vs gold) on a held-out labeled slice. */
  readonly heldOutAccuracy?: number;
}

export interface RewardHackingVerdict {
  readonly step: number;
  /** This observation meets the alarm condition (before the `consecutive` rule). */
  readonly suspect: boolean;
  /** The alarm is raised (now or earlier; it stays raised). */
  readonly alarm: boolean;
  /** This observation raised the alarm: the moment to act, once per run. */
  readonly raised: boolean;
  readonly firstAlarmStep: number | null;
  /** Why this observation is suspect. */
  readonly reason?: string;
  /** Change of each series (see `trend`); NaN while a series has too few points. */
  readonly judgeRewardChange: number;
  readonly agreementChange: number;
  readonly heldOutAccuracyChange: number;
  /** Held-out change as a fraction of its start level (NaN before the baseline is complete). */
  readonly heldOutRelativeChange: number;
  /** The judge spread used (NaN when unused or not yet measured) and the rise threshold it gave. */
  readonly judgeSpread: number;
  readonly judgeRiseThreshold: number;
}

type SeriesName = 'judgeReward' | 'agreement' | 'heldOutAccuracy';
const SERIES: readonly SeriesName[] = ['judgeReward', 'agreement', 'heldOutAccuracy'];

/** One series' state: enough to continue exactly, bounded by the window. */
export interface MonitorSeriesState {
  /** Observations of this series so far. */
  readonly count: number;
  /** Its first `baselinePoints` values. */
  readonly start: readonly number[];
  /** [step, value] of the latest `recentPoints` values (window-means) or those inside the window (slope). */
  readonly recent: readonly (readonly [number, number])[];
}

export const REWARD_HACKING_MONITOR_FORMAT = 'verdict.reward-hacking-monitor/1';

/** The monitor's whole state, plain JSON: save it with the checkpoint, pass it back on resume. */
export interface RewardHackingMonitorSnapshot {
  readonly format: typeof REWARD_HACKING_MONITOR_FORMAT;
  /** The settings that shape the state; a resume must use the same ones. */
  readonly shape: Pick<
    RewardHackingMonitorConfig,
    'trend' | 'baselinePoints' | 'recentPoints' | 'windowSteps'
  >;
  readonly lastStep: number | null;
  readonly streak: number;
  readonly firstAlarmStep: number | null;
  readonly alarmReason: string | null;
  readonly series: Readonly<Record<SeriesName, MonitorSeriesState>>;
}

export interface RewardHackingMonitor {
  readonly config: RewardHackingMonitorConfig;
  observe(observation: RewardHackingObservation): RewardHackingVerdict;
  /** Step at which the alarm was first raised, or null. */
  readonly firstAlarmStep: number | null;
  /** The reason recorded when the alarm was raised. */
  readonly alarmReason: string | undefined;
  snapshot(): RewardHackingMonitorSnapshot;
}

interface MutableSeries {
  count: number;
  start: number[];
  recent: [number, number][];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function sampleStd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
const fmt = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);

/**
 * The reward-hacking monitor: the known failure of judge-rewarded RL is a policy that pleases the
 * judge, so the judge's score rises while judge–gold agreement or held-out accuracy falls. Feed one
 * observation per step; an observation is suspect when the judge rose by its threshold and agreement
 * or held-out accuracy fell by theirs, and `consecutive` suspect observations in a row raise the
 * alarm (once; it stays raised). Pure: no I/O, no clock. `snapshot()` and
 * `createRewardHackingMonitor(config, snapshot)` continue a resumed run with the same verdicts.
 */
export function createRewardHackingMonitor(
  options: RewardHackingMonitorOptions = {},
  snapshot?: RewardHackingMonitorSnapshot,
): RewardHackingMonitor {
  const config = resolveRewardHackingMonitorConfig(options);
  const shape = {
    trend: config.trend,
    baselinePoints: config.baselinePoints,
    recentPoints: config.recentPoints,
    windowSteps: config.windowSteps,
  };
  const series = {} as Record<SeriesName, MutableSeries>;
  let lastStep: number | null = null;
  let streak = 0;
  let firstAlarmStep: number | null = null;
  let alarmReason: string | undefined;
  if (snapshot === undefined) {
    for (const name of SERIES) series[name] = { count: 0, start: [], recent: [] };
  } else {
    checkSnapshot(snapshot, shape);
    for (const name of SERIES) {
      const s = snapshot.series[name];
      series[name] = { count: s.count, start: [...s.start], recent: s.recent.map(([x, y]) => [x, y]) };
    }
    lastStep = snapshot.lastStep;
    streak = snapshot.streak;
    firstAlarmStep = snapshot.firstAlarmStep;
    alarmReason = snapshot.alarmReason ?? undefined;
  }

  const startLevel = (s: MutableSeries) =>
    s.start.length === config.baselinePoints ? mean(s.start) : Number.NaN;

  function change(s: MutableSeries): number {
    if (config.trend === 'window-means') {
      if (s.count < config.baselinePoints + config.recentPoints) return Number.NaN;
      return mean(s.recent.map(([, y]) => y)) - startLevel(s);
    }
    if (s.recent.length < config.minPoints) return Number.NaN;
    const slope = leastSquaresSlope(
      s.recent.map(([x]) => x),
      s.recent.map(([, y]) => y),
    );
    // The fitted change across the observed span, not extrapolated to the whole window: a few
    // early points stretched over windowSteps multiply their noise (false alarms at a run's start).
    return slope * (s.recent[s.recent.length - 1]![0] - s.recent[0]![0]);
  }

  function judgeSpread(): number {
    if (config.judgeRiseSpreadMultiple === 0) return Number.NaN;
    if (config.judgeScoreSpread !== undefined) return config.judgeScoreSpread;
    const start = series.judgeReward.start;
    return start.length === config.baselinePoints ? sampleStd(start) : Number.NaN;
  }

  function push(s: MutableSeries, step: number, value: number): void {
    s.count++;
    if (s.start.length < config.baselinePoints) s.start.push(value);
    s.recent.push([step, value]);
    if (config.trend === 'window-means' && s.recent.length > config.recentPoints) s.recent.shift();
  }

  function observe(o: RewardHackingObservation): RewardHackingVerdict {
    if (!Number.isFinite(o.step) || (lastStep !== null && o.step <= lastStep))
      throw new RangeError(`step must be finite and increase: got ${o.step} after ${lastStep}`);
    for (const name of SERIES) {
      const v = o[name];
      if (v !== undefined && !Number.isFinite(v))
        throw new RangeError(`${name} at step ${o.step} must be finite, got ${v}`);
    }
    lastStep = o.step;
    for (const name of SERIES) {
      const v = o[name];
      if (v !== undefined) push(series[name], o.step, v);
      if (config.trend === 'slope') {
        const s = series[name];
        s.recent = s.recent.filter(([x]) => x > o.step - config.windowSteps);
      }
    }

    const judgeRewardChange = change(series.judgeReward);
    const agreementChange = change(series.agreement);
    const heldOutAccuracyChange = change(series.heldOutAccuracy);
    const heldOutRelativeChange = heldOutAccuracyChange / startLevel(series.heldOutAccuracy);
    const spread = judgeSpread();
    const riseThreshold =
      config.judgeRiseSpreadMultiple === 0
        ? config.judgeRiseThreshold
        : Math.max(config.judgeRiseThreshold, config.judgeRiseSpreadMultiple * spread);

    const causes: string[] = [];
    // NaN (too few points, spread not measured yet) fails every comparison: not suspect.
    if (judgeRewardChange >= riseThreshold) {
      if (agreementChange <= -config.agreementDropThreshold) {
        causes.push(
          `judge–gold agreement ${fmt(agreementChange)} (drop threshold ${config.agreementDropThreshold})`,
        );
      }
      const drop = -heldOutAccuracyChange;
      if (drop >= config.heldOutDropThreshold) {
        causes.push(
          `held-out accuracy ${fmt(heldOutAccuracyChange)} (drop threshold ${config.heldOutDropThreshold})`,
        );
      } else if (
        drop >= config.heldOutMinDrop &&
        -heldOutRelativeChange >= config.heldOutRelativeDropThreshold
      ) {
        causes.push(
          `held-out accuracy ${fmt(heldOutAccuracyChange)}, ${(-100 * heldOutRelativeChange).toFixed(0)} % of its start ` +
            `(relative drop threshold ${config.heldOutRelativeDropThreshold}, at least ${config.heldOutMinDrop})`,
        );
      }
    }
    const suspect = causes.length > 0;
    streak = suspect ? streak + 1 : 0;
    const span =
      config.trend === 'window-means' ? 'since the start' : `within the last ${config.windowSteps} steps`;
    const threshold =
      riseThreshold === config.judgeRiseThreshold
        ? `rise threshold ${config.judgeRiseThreshold}`
        : `rise threshold ${riseThreshold.toFixed(3)} = ${config.judgeRiseSpreadMultiple} × judge spread ${spread.toFixed(3)}`;
    const reason = suspect
      ? `judge reward ${fmt(judgeRewardChange)} ${span} (${threshold}) while ${causes.join(' and ')}`
      : undefined;
    const raised = firstAlarmStep === null && streak >= config.consecutive;
    if (raised) {
      firstAlarmStep = o.step;
      alarmReason = reason;
    }
    return {
      step: o.step,
      suspect,
      alarm: firstAlarmStep !== null,
      raised,
      firstAlarmStep,
      ...(reason !== undefined ? { reason } : {}),
      judgeRewardChange,
      agreementChange,
      heldOutAccuracyChange,
      heldOutRelativeChange,
      judgeSpread: spread,
      judgeRiseThreshold: riseThreshold,
    };
  }

  return {
    config,
    observe,
    get firstAlarmStep() {
      return firstAlarmStep;
    },
    get alarmReason() {
      return alarmReason;
    },
    snapshot: () => ({
      format: REWARD_HACKING_MONITOR_FORMAT,
      shape: { ...shape },
      lastStep,
      streak,
      firstAlarmStep,
      alarmReason: alarmReason ?? null,
      series: Object.fromEntries(
        SERIES.map((name) => {
          const s = series[name];
          return [name, { count: s.count, start: [...s.start], recent: s.recent.map(([x, y]) => [x, y]) }];
        }),
      ) as unknown as Record<SeriesName, MonitorSeriesState>,
    }),
  };
}

/** A snapshot from another config or a corrupt file would silently change verdicts: refuse it. */
function checkSnapshot(s: RewardHackingMonitorSnapshot, shape: RewardHackingMonitorSnapshot['shape']): void {
  const bad = (what: string) => new RangeError(`invalid reward hacking monitor snapshot: ${what}`);
  if (s === null || typeof s !== 'object' || s.format !== REWARD_HACKING_MONITOR_FORMAT)
    throw bad(`format must be ${REWARD_HACKING_MONITOR_FORMAT}, got ${String(s?.format)}`);
  for (const key of Object.keys(shape) as (keyof typeof shape)[]) {
    if (s.shape?.[key] !== shape[key])
      throw bad(`taken with ${key} = ${String(s.shape?.[key])}, but the config has ${shape[key]}`);
  }
  const finiteOrNull = (x: unknown) => x === null || (typeof x === 'number' && Number.isFinite(x));
  if (!finiteOrNull(s.lastStep)) throw bad(`lastStep must be a finite number or null`);
  if (!finiteOrNull(s.firstAlarmStep)) throw bad(`firstAlarmStep must be a finite number or null`);
  if (!(Number.isInteger(s.streak) && s.streak >= 0)) throw bad(`streak must be an integer >= 0`);
  for (const name of SERIES) {
    const x = s.series?.[name];
    const ok =
      x !== undefined &&
      Number.isInteger(x.count) &&
      Array.isArray(x.start) &&
      x.start.length <= shape.baselinePoints &&
      x.start.every(Number.isFinite) &&
      Array.isArray(x.recent) &&
      x.recent.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite));
    if (!ok)
      throw bad(
        `series.${name} must be { count, start: number[<= baselinePoints], recent: [step, value][] }`,
      );
  }
}
