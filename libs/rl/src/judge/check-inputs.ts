/** Shared validation: equal lengths, probabilities in [0, 1], boolean/0-1 labels. */
export function checkScoredLabels(
  scores: ArrayLike<number>,
  labels: ArrayLike<boolean | number>,
  what: string,
): void {
  if (scores.length !== labels.length) {
    throw new RangeError(`${what}: ${scores.length} scores but ${labels.length} labels`);
  }
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (!Number.isFinite(s)) throw new RangeError(`${what}: score[${i}] is not finite (${s})`);
    const y = labels[i];
    if (y !== true && y !== false && y !== 0 && y !== 1) {
      throw new RangeError(`${what}: label[${i}] must be boolean or 0/1, got ${String(y)}`);
    }
  }
}

export function checkProbabilities(probabilities: ArrayLike<number>, what: string): void {
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i] as number;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`${what}: probability[${i}] = ${p} is outside [0, 1]`);
  }
}

export function isPositive(label: boolean | number | undefined): boolean {
  return label === true || label === 1;
}
