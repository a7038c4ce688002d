import type { GraphBuilder, Value } from '../src/index.js';

// The checker lives in src/autodiff/gradcheck.ts (exported, so other packages can check their
// graphs too); this file adds the test-only scalarisation helper.
export {
  analyticGrads,
  type GradcheckReport,
  type GradcheckSpec,
  gradcheck,
  makeGradcheckData as makeData,
  mulberry,
  type TensorReport,
} from '../src/autodiff/gradcheck.js';

/** Σ y ⊙ w with w a fed random input of y's shape: a loss whose gradient differs per position. */
export function weightedSum(g: GraphBuilder, y: Value): Value {
  const w = g.input(`w.${y.name}`, y.dtype, y.shape);
  const prod = g.mul(y, w);
  return y.shape.length === 0 ? prod : g.sum(prod, [...y.shape.keys()]);
}
