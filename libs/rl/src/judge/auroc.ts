import { checkScoredLabels, isPositive } from './check-inputs.js';

/**
 * Area under the ROC curve via the Mann–Whitney U statistic with average ranks for ties:
 *   AUROC = (Σ ranks of positives − n₊(n₊+1)/2) / (n₊·n₋)
 * which equals P(score₊ > score₋) + ½·P(score₊ = score₋) over all positive/negative pairs.
 * Returns NaN when either class is empty (the AUROC is undefined, not 0.5).
 * O(n log n).
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<boolean | number>): number {
  checkScoredLabels(scores, labels, 'auroc');
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let positives = 0;
  let positiveRankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    const s = scores[order[i] as number] as number;
    while (j + 1 < n && scores[order[j + 1] as number] === s) j++;
    // Ranks are 1-based; the tie block i..j shares the average rank.
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (isPositive(labels[order[k] as number])) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
