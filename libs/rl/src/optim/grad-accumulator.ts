import type { ParamMap } from './param-map.js';
import { assertSameLayout } from './param-map.js';

/**
 * Gradient accumulation over micro-batches: sums each micro-batch's gradients (times its weight)
 * into float32 buffers, then scales ONCE at the end (default 1/count, i.e. the mean; pass
 * 1/totalWeight for a weighted mean — micro-batch token means weighted by their token counts make
 * the update's token mean). Summing first keeps the result independent of how the batch was split,
 * up to float32 summation order.
 */
export interface GradAccumulator {
  /** Micro-batches added since the last reset. */
  readonly count: number;
  /** Σ of the weights added since the last reset. */
  readonly weight: number;
  /** Adds `weight · grads` (default weight 1). */
  add(grads: ParamMap, weight?: number): void;
  /**
   * Scales the sums in place and returns them (the accumulator's own buffers: valid
   * until reset). Adding again before `reset()` throws.
   */
  finish(scale?: number): ParamMap;
  reset(): void;
}

export function createGradAccumulator(layout: ParamMap): GradAccumulator {
  const sums: ParamMap = new Map([...layout].map(([name, t]) => [name, new Float32Array(t.length)]));
  let count = 0;
  let weightSum = 0;
  let finished = false;
  return {
    get count() {
      return count;
    },
    get weight() {
      return weightSum;
    },
    add(grads, weight = 1) {
      if (finished) throw new Error('grad accumulator was finished: reset() before adding');
      if (!(weight >= 0 && Number.isFinite(weight)))
        throw new RangeError(`weight must be finite and >= 0, got ${weight}`);
      assertSameLayout(sums, grads, 'accumulated grads');
      for (const [name, sum] of sums) {
        const g = grads.get(name)!;
        if (weight === 1) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + g[i]!;
        else if (weight !== 0) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + weight * g[i]!;
      }
      count++;
      weightSum += weight;
    },
    finish(scale) {
      if (count === 0) throw new Error('grad accumulator is empty');
      if (finished) throw new Error('grad accumulator already finished');
      const s = scale ?? 1 / count;
      if (!Number.isFinite(s)) throw new RangeError(`scale must be finite, got ${s}`);
      if (s !== 1) {
        for (const sum of sums.values()) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! * s;
      }
      finished = true;
      return sums;
    },
    reset() {
      for (const sum of sums.values()) sum.fill(0);
      count = 0;
      weightSum = 0;
      finished = false;
    },
  };
}
