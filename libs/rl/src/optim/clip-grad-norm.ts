import type { ParamMap } from './param-map.js';

/** L2 norm over every gradient element of every tensor, accumulated in float64. */
export function globalGradNorm(grads: ParamMap): number {
  let sumSq = 0;
  for (const g of grads.values()) {
    let s = 0;
    for (let i = 0; i < g.length; i++) {
      const x = g[i]!;
      s += x * x;
    }
    sumSq += s;
  }
  return Math.sqrt(sumSq);
}

/**
 * Global-norm clipping as torch.nn.utils.clip_grad_norm_: when the norm exceeds
 * `maxNorm`, every gradient is scaled in place by maxNorm / (norm + 1e-6). Returns the
 * norm BEFORE clipping (what is logged). A non-finite norm leaves the gradients as they
 * are and is returned, so the caller can skip the step instead of writing NaN weights.
 */
export function clipGradNorm(grads: ParamMap, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalGradNorm(grads);
  if (!Number.isFinite(norm)) return norm;
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) {
    for (const g of grads.values()) {
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * coefficient;
    }
  }
  return norm;
}
