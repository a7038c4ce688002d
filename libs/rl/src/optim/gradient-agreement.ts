import type { ParamMap } from './param-map.js';

/**
 * Cosine between the gradients of the two halves of an update: `firstSum` is the first half's part
 * of the update's gradient, `total · totalScale` the whole of it (on the same scale; the trainer
 * passes its weighted sum with scale 1), so the second half is `total · totalScale − firstSum` (never
 * materialised). Near 1: the halves agree and the update follows a signal; near 0: the batch gradient
 * is mostly sampling noise, and Adam, which normalises step size, still takes a full-size step along
 * it. NaN when either half is zero.
 */
export function halvesCosine(firstSum: ParamMap, total: ParamMap, totalScale = 1): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (const [name, a] of firstSum) {
    const t = total.get(name);
    if (t === undefined || t.length !== a.length) {
      throw new RangeError(`halvesCosine: ${name} is missing or has another length in the total`);
    }
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = t[i]! * totalScale - x;
      dot += x * y;
      aa += x * x;
      bb += y * y;
    }
  }
  return aa > 0 && bb > 0 ? dot / Math.sqrt(aa * bb) : Number.NaN;
}
