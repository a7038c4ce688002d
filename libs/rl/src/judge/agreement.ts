import { checkScoredLabels, isPositive } from './check-inputs.js';

export interface AgreementResult {
  /** Fraction of samples where (score >= threshold) equals the gold verdict; NaN if empty. */
  readonly agreement: number;
  readonly truePositive: number;
  readonly falsePositive: number;
  readonly trueNegative: number;
  readonly falseNegative: number;
  readonly count: number;
}

/**
 * Judge–gold agreement: the judge says "correct" when its score (e.g. sigmoid(z_Yes − z_No))
 * is at least `threshold`; gold says correct when the extracted answer equals the gold one.
 */
export function judgeAgreement(
  scores: ArrayLike<number>,
  gold: ArrayLike<boolean | number>,
  threshold = 0.5,
): AgreementResult {
  checkScoredLabels(scores, gold, 'judgeAgreement');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const says = (scores[i] as number) >= threshold;
    const truth = isPositive(gold[i]);
    if (says && truth) tp++;
    else if (says) fp++;
    else if (truth) fn++;
    else tn++;
  }
  const count = scores.length;
  return {
    agreement: count === 0 ? Number.NaN : (tp + tn) / count,
    truePositive: tp,
    falsePositive: fp,
    trueNegative: tn,
    falseNegative: fn,
    count,
  };
}
