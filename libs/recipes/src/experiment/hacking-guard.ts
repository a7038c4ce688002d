import {
  createRewardHackingMonitor,
  type RewardHackingMonitor,
  type RewardHackingMonitorSnapshot,
  type RewardHackingObservation,
  type RewardHackingVerdict,
} from '@verdict/rl';
import type { GuardAction, GuardConfig } from './experiment-config.js';

/** One observation of a run's health (the monitor's); series may be sampled at different steps. */
export type GuardObservation = RewardHackingObservation;

/** The monitor's verdict plus the action to take now. */
export interface GuardVerdict extends RewardHackingVerdict {
  /** The configured action on the observation that raises the alarm, else `none`: issued once. */
  readonly action: GuardAction | 'none';
}

export interface HackingGuard {
  observe(observation: GuardObservation): GuardVerdict;
  /** Step at which the alarm was first raised, or null. */
  readonly alarmStep: number | null;
  readonly reason: string | undefined;
  /** The monitor's state (plain JSON), to resume a guarded run. */
  snapshot(): RewardHackingMonitorSnapshot;
}

/**
 * The experiment's reward-hacking guard: libs/rl's one monitor (`createRewardHackingMonitor`, which
 * decides suspect/alarm) and the experiment's actions on its alarm: `alarm` records, `stop` ends the
 * arm, `lower-mu` scales μ by `muFactor` (the caller applies them). Values that are not finite (a
 * probe with no judged sample) are left out of the observation rather than rejected.
 */
export function createHackingGuard(
  config: GuardConfig,
  snapshot?: RewardHackingMonitorSnapshot,
): HackingGuard {
  const { action, muFactor, ...settings } = config;
  if (!(muFactor >= 0 && muFactor <= 1))
    throw new RangeError(`guard.muFactor must be in [0, 1], got ${muFactor}`);
  const monitor: RewardHackingMonitor = createRewardHackingMonitor(settings, snapshot);
  return {
    observe(o) {
      const finite: { -readonly [K in keyof GuardObservation]: GuardObservation[K] } = { step: o.step };
      for (const name of ['judgeReward', 'agreement', 'heldOutAccuracy'] as const) {
        const v = o[name];
        if (v !== undefined && Number.isFinite(v)) finite[name] = v;
      }
      const verdict = monitor.observe(finite);
      return { ...verdict, action: verdict.raised ? action : 'none' };
    },
    get alarmStep() {
      return monitor.firstAlarmStep;
    },
    get reason() {
      return monitor.alarmReason;
    },
    snapshot: () => monitor.snapshot(),
  };
}

/** What the experiment's shadow probe measures on its fixed held-out labeled slice. */
export interface ShadowProbeLevels {
  /** The judge's mean score on the slice's greedy answers. */
  readonly judgeMean: number;
  readonly agreement: number;
  readonly accuracy: number;
}

/**
 * The experiment's observation for the guard: the shadow slice only (the same greedy problems every
 * probe, so the judge score moves with the policy, not with which questions a step drew); an arm
 * without the judge in its reward (μ = 0) cannot hack it, so its judge score is left out.
 */
export function shadowGuardObservation(
  step: number,
  probe: ShadowProbeLevels,
  muJudge: number,
): GuardObservation {
  return {
    step,
    ...(muJudge > 0 ? { judgeReward: probe.judgeMean } : {}),
    agreement: probe.agreement,
    heldOutAccuracy: probe.accuracy,
  };
}

/** μ after `lower-mu` (λ takes the rest, so λ + μ + ρ stays 1; ρ, absent = 0, is kept). */
export function loweredWeights<W extends { lambdaVr: number; muJudge: number; rhoRerank?: number }>(
  weights: W,
  muFactor: number,
): W {
  const muJudge = weights.muJudge * muFactor;
  return { ...weights, lambdaVr: 1 - muJudge - (weights.rhoRerank ?? 0), muJudge };
}
