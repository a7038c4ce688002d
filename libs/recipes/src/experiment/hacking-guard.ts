import { createRewardHackingDetector, type TrainingHealthObservation } from '@verdict/rl';
import type { GuardAction, GuardConfig } from './experiment-config.js';

/** One guard observation: the detector's verdict plus what the guard decided. */
export interface GuardVerdict {
  readonly step: number;
  /** The detector alarms at this observation (before the consecutive rule). */
  readonly suspect: boolean;
  /** The alarm is raised (suspect for `consecutive` observations in a row). */
  readonly alarm: boolean;
  /** The action to take now: only on the observation that first raises the alarm. */
  readonly action: GuardAction | 'none';
  readonly reason?: string;
  readonly judgeRewardChange: number;
  readonly agreementChange: number;
  readonly heldOutAccuracyChange: number;
}

export interface HackingGuard {
  observe(observation: TrainingHealthObservation): GuardVerdict;
  /** Step at which the alarm was first raised, or null. */
  readonly alarmStep: number | null;
  readonly reason: string | undefined;
}

/**
 * The reward-hacking guard of the experiment: `createRewardHackingDetector` (judge reward rising
 * while the shadow judge–gold agreement or the held-out accuracy falls, as trends over a window)
 * with a consecutive-observations rule against one noisy probe, and the configured action
 * (`alarm` records it, `stop` ends the arm, `lower-mu` multiplies μ by `muFactor`) issued once.
 */
export function createHackingGuard(config: GuardConfig): HackingGuard {
  const detector = createRewardHackingDetector({
    windowSteps: config.windowSteps,
    minPoints: config.minPoints,
    judgeRiseThreshold: config.judgeRiseThreshold,
    agreementDropThreshold: config.agreementDropThreshold,
    heldOutDropThreshold: config.heldOutDropThreshold,
  });
  if (!(Number.isInteger(config.consecutive) && config.consecutive >= 1)) {
    throw new RangeError(`guard.consecutive must be an integer >= 1, got ${config.consecutive}`);
  }
  let streak = 0;
  let alarmStep: number | null = null;
  let reason: string | undefined;
  return {
    observe(observation) {
      const v = detector.observe(observation);
      streak = v.alarm ? streak + 1 : 0;
      const raisedNow = alarmStep === null && streak >= config.consecutive;
      if (raisedNow) {
        alarmStep = v.step;
        reason = v.reason;
      }
      return {
        step: v.step,
        suspect: v.alarm,
        alarm: alarmStep !== null,
        action: raisedNow ? config.action : 'none',
        ...(v.reason !== undefined ? { reason: v.reason } : {}),
        judgeRewardChange: v.judgeRewardChange,
        agreementChange: v.agreementChange,
        heldOutAccuracyChange: v.heldOutAccuracyChange,
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
