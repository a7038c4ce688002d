import type { Value } from '../types.js';
import {
  constInts,
  countOver,
  dy0,
  input,
  output,
  unbroadcast,
  unreduce,
  type VjpContext,
  type VjpRule,
} from './vjp-context.js';

// VJPs of reductions and MatMul.

function reduceAxes(c: VjpContext): { x: Value; axes: number[]; keep: boolean } {
  const x = input(c, 0);
  const listed = constInts(c, 1, x.shape.length);
  // ONNX: empty axes reduce over every axis (noop_with_empty_axes is never set by the builder).
  const axes = listed.length ? [...new Set(listed)].sort((a, b) => a - b) : [...x.shape.keys()];
  return { x, axes, keep: (c.node.attrs['keepdims'] ?? 1) === 1 };
}

export const linalgVjps: Record<string, VjpRule> = {
  ReduceSum: (c) => {
    const { x, axes, keep } = reduceAxes(c);
    return [() => unreduce(c.g, dy0(c), x, axes, keep), undefined];
  },
  ReduceMean: (c) => {
    const { x, axes, keep } = reduceAxes(c);
    return [() => c.g.div(unreduce(c.g, dy0(c), x, axes, keep), countOver(c.g, x.shape, axes, x)), undefined];
  },
  // dy goes to the arg-max; ties share it equally (a subgradient, like PyTorch's amax).
  ReduceMax: (c) => {
    const { g } = c;
    const { x, axes, keep } = reduceAxes(c);
    return [
      () => {
        const yKeep = keep ? output(c) : g.unsqueeze(output(c), axes);
        const hit = g.cast(g.equal(x, yKeep), x.dtype);
        const share = g.div(hit, g.sum(hit, axes, true));
        return g.mul(share, unreduce(g, dy0(c), x, axes, keep));
      },
      undefined,
    ];
  },
  /**
   * dA = dY·Bᵀ, dB = Aᵀ·dY, summed over broadcast batch dims. Activation × weight (rank ≥ 3 × 2-D)
   * flattens the batch into rows so dB is one 2-D MatMul instead of a batched one plus a reduction.
   */
  MatMul: (c) => {
    const { g } = c;
    const [a, b] = [input(c, 0), input(c, 1)];
    return [
      () => unbroadcast(g, g.matmul(dy0(c), g.transposeLast2(b)), a.shape),
      () => {
        const dy = dy0(c);
        if (b.shape.length === 2 && a.shape.length > 2) {
          const k = a.shape[a.shape.length - 1] as number | string;
          const n = b.shape[1] as number | string;
          const a2 = g.reshape(a, [-1, k]);
          const dy2 = g.reshape(dy, [-1, n]);
          return g.matmul(g.transpose(a2, [1, 0]), dy2);
        }
        return unbroadcast(g, g.matmul(g.transposeLast2(a), dy), b.shape);
      },
    ];
  },
};
