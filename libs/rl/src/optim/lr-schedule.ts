/**
 * Learning-rate schedules, as a function of the 0-based index of the update about to be
 * applied. Warmup is linear from peak/warmupSteps (not from 0, so the first update is not
 * wasted) up to the peak at step warmupSteps − 1; then
 *   constant: peak
 *   cosine:   floor + (peak − floor)·½(1 + cos(π·progress))
 *   linear:   peak − (peak − floor)·progress
 * with progress = (step − warmupSteps) / (totalSteps − warmupSteps) clamped to [0, 1], so
 * steps past totalSteps stay at the floor.
 */
export interface LrScheduleConfig {
  readonly kind: 'constant' | 'cosine' | 'linear';
  readonly peakLr: number;
  readonly warmupSteps?: number;
  /** Required for cosine and linear: the step at which the floor is reached. */
  readonly totalSteps?: number;
  /** Floor for cosine/linear decay. Default 0. */
  readonly minLr?: number;
}

export type LrSchedule = (step: number) => number;

export function createLrSchedule(config: LrScheduleConfig): LrSchedule {
  const { kind, peakLr } = config;
  const warmupSteps = config.warmupSteps ?? 0;
  const minLr = config.minLr ?? 0;
  const totalSteps = config.totalSteps ?? 0;
  const problems: string[] = [];
  if (!(peakLr >= 0) || !Number.isFinite(peakLr))
    problems.push(`peakLr must be finite and >= 0, got ${peakLr}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0)
    problems.push(`warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  if (!(minLr >= 0 && minLr <= peakLr)) problems.push(`minLr must be in [0, peakLr], got ${minLr}`);
  if (kind !== 'constant' && !(Number.isInteger(totalSteps) && totalSteps > warmupSteps)) {
    problems.push(`totalSteps must be an integer > warmupSteps for ${kind}, got ${config.totalSteps}`);
  }
  if (problems.length > 0) throw new RangeError(`invalid lr schedule: ${problems.join('; ')}`);

  return (step: number): number => {
    if (!Number.isInteger(step) || step < 0)
      throw new RangeError(`step must be an integer >= 0, got ${step}`);
    if (step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
    if (kind === 'constant') return peakLr;
    const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    if (kind === 'cosine') return minLr + (peakLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    return peakLr - (peakLr - minLr) * progress;
  };
}
