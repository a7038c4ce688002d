import { checkProbabilities, checkScoredLabels, isPositive } from './check-inputs.js';

/** Mean squared error between predicted probability and the 0/1 outcome; NaN if empty. */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<boolean | number>): number {
  checkScoredLabels(probabilities, labels, 'brierScore');
  checkProbabilities(probabilities, 'brierScore');
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const d = (probabilities[i] as number) - (isPositive(labels[i]) ? 1 : 0);
    sum += d * d;
  }
  return probabilities.length === 0 ? Number.NaN : sum / probabilities.length;
}

export interface CalibrationBin {
  /** Bin covers [lower, upper); the last bin also includes 1. */
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  readonly meanProbability: number;
  /** Fraction of positives in the bin (NaN when empty). */
  readonly positiveRate: number;
}

export interface CalibrationResult {
  /** Σ_b (n_b / N)·|meanProbability_b − positiveRate_b|; NaN if empty. */
  readonly ece: number;
  /** max_b |meanProbability_b − positiveRate_b| over non-empty bins. */
  readonly mce: number;
  readonly bins: CalibrationBin[];
}

/**
 * Expected calibration error (Naeini et al. 2015; Guo et al. 2017) of the judge's
 * P(correct) with equal-width bins over [0, 1]. Binary form: each bin compares the mean
 * predicted probability with the observed rate of correct answers.
 */
export function expectedCalibrationError(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<boolean | number>,
  binCount = 10,
): CalibrationResult {
  checkScoredLabels(probabilities, labels, 'expectedCalibrationError');
  checkProbabilities(probabilities, 'expectedCalibrationError');
  if (!Number.isInteger(binCount) || binCount < 1)
    throw new RangeError(`binCount must be an integer >= 1, got ${binCount}`);
  const counts = new Float64Array(binCount);
  const probabilitySums = new Float64Array(binCount);
  const positiveSums = new Float64Array(binCount);
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i] as number;
    const b = Math.min(binCount - 1, Math.floor(p * binCount));
    counts[b] = (counts[b] as number) + 1;
    probabilitySums[b] = (probabilitySums[b] as number) + p;
    if (isPositive(labels[i])) positiveSums[b] = (positiveSums[b] as number) + 1;
  }
  const n = probabilities.length;
  let ece = 0;
  let mce = 0;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < binCount; b++) {
    const count = counts[b] as number;
    const meanProbability = count > 0 ? (probabilitySums[b] as number) / count : Number.NaN;
    const positiveRate = count > 0 ? (positiveSums[b] as number) / count : Number.NaN;
    if (count > 0) {
      const gap = Math.abs(meanProbability - positiveRate);
      ece += (count / n) * gap;
      if (gap > mce) mce = gap;
    }
    bins.push({ lower: b / binCount, upper: (b + 1) / binCount, count, meanProbability, positiveRate });
  }
  return { ece: n === 0 ? Number.NaN : ece, mce, bins };
}
