import { checkScoredLabels, isPositive } from './check-inputs.js';

/** The map from the judge's logit margin m = z_yes − z_no to a probability: σ((m − bias) / temperature). */
export interface TemperatureScaling {
  /** > 0; above 1 the raw judge is over-confident, below 1 under-confident. */
  readonly temperature: number;
  /** Margin at which the calibrated probability is ½ (0 = the raw judge's decision point). */
  readonly bias: number;
}

export interface TemperatureFit extends TemperatureScaling {
  /** Mean negative log-likelihood of the labels under the raw judge, σ(m). */
  readonly nllBefore: number;
  /** Mean negative log-likelihood under σ((m − bias) / temperature). */
  readonly nllAfter: number;
  /** Newton steps taken. */
  readonly iterations: number;
}

export interface TemperatureFitOptions {
  /** Fit the bias too (default true); false = temperature only, bias 0. */
  readonly fitBias?: boolean;
  /** Newton step limit (default 100). */
  readonly maxIterations?: number;
}

/** Numerically stable log σ(x). */
function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** σ((margin − bias) / temperature). */
export function applyTemperatureScaling(margin: number, scaling: TemperatureScaling): number {
  return sigmoid((margin - scaling.bias) / scaling.temperature);
}

/**
 * A weak pull of (slope, intercept) towards the raw judge (1, 0). It changes nothing measurable
 * on a pool both classes overlap in, but keeps the optimum finite when the pool is separable
 * (the unpenalised NLL then keeps falling as the slope grows without bound).
 */
const RIDGE = 1e-4;

/**
 * Fits temperature scaling (Guo et al. 2017) with a bias (Platt scaling on the margin) by
 * minimising the NLL of the labels. Parameterised as σ(a·m + c), the NLL is convex in (a, c), so
 * damped Newton on two parameters converges in a handful of steps; then T = 1/a, bias = −c/a.
 * Throws RangeError when the pool has one class only, or when the fitted slope is not positive
 * (margins that rank the pool backwards have no temperature).
 */
export function fitTemperatureScaling(
  margins: ArrayLike<number>,
  labels: ArrayLike<boolean | number>,
  options: TemperatureFitOptions = {},
): TemperatureFit {
  checkScoredLabels(margins, labels, 'fitTemperatureScaling');
  const n = margins.length;
  const fitBias = options.fitBias ?? true;
  const maxIterations = options.maxIterations ?? 100;
  const y = Float64Array.from({ length: n }, (_, i) => (isPositive(labels[i]) ? 1 : 0));
  const positives = y.reduce((s, v) => s + v, 0);
  if (positives === 0 || positives === n) {
    throw new RangeError(
      `fitTemperatureScaling: needs both labels (got ${positives} positive of ${n}); one class has no calibration`,
    );
  }
  const objective = (a: number, c: number): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const z = a * (margins[i] as number) + c;
      sum -= (y[i] as number) === 1 ? logSigmoid(z) : logSigmoid(-z);
    }
    return sum + 0.5 * RIDGE * ((a - 1) ** 2 + c ** 2);
  };
  let a = 1;
  let c = 0;
  let value = objective(a, c);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    let ga = RIDGE * (a - 1);
    let gc = RIDGE * c;
    let haa = RIDGE;
    let hac = 0;
    let hcc = RIDGE;
    for (let i = 0; i < n; i++) {
      const m = margins[i] as number;
      const p = sigmoid(a * m + c);
      const r = p - (y[i] as number);
      const w = p * (1 - p);
      ga += r * m;
      gc += r;
      haa += w * m * m;
      hac += w * m;
      hcc += w;
    }
    if (!fitBias) {
      gc = 0;
      hac = 0;
      hcc = 1;
    }
    // Newton direction: H⁻¹·g for the 2×2 Hessian (positive definite thanks to the ridge).
    const det = haa * hcc - hac * hac;
    const da = (hcc * ga - hac * gc) / det;
    const dc = (haa * gc - hac * ga) / det;
    if (Math.abs(ga) + Math.abs(gc) < 1e-12 * n) break;
    // Backtracking: a full Newton step can overshoot far from the optimum (large margins).
    let step = 1;
    let next = objective(a - step * da, c - step * dc);
    while (next > value && step > 1e-10) {
      step /= 2;
      next = objective(a - step * da, c - step * dc);
    }
    if (next > value) break;
    a -= step * da;
    c -= step * dc;
    const improvement = value - next;
    value = next;
    if (improvement < 1e-15 * n && Math.abs(step * da) + Math.abs(step * dc) < 1e-12) break;
  }
  if (!(a > 0)) {
    throw new RangeError(
      `fitTemperatureScaling: the fitted slope is ${a.toPrecision(3)} (≤ 0): the margins rank this pool backwards, so no temperature calibrates them`,
    );
  }
  // `+ 0` turns the −0 of a fixed bias (−0/a) into 0.
  const scaling = { temperature: 1 / a, bias: -c / a + 0 };
  return {
    ...scaling,
    nllBefore: meanNll(margins, y, { temperature: 1, bias: 0 }),
    nllAfter: meanNll(margins, y, scaling),
    iterations,
  };
}

/** Mean negative log-likelihood of 0/1 labels under σ((m − bias) / temperature). */
export function meanNll(
  margins: ArrayLike<number>,
  labels: ArrayLike<boolean | number>,
  scaling: TemperatureScaling,
): number {
  checkScoredLabels(margins, labels, 'meanNll');
  let sum = 0;
  for (let i = 0; i < margins.length; i++) {
    const z = ((margins[i] as number) - scaling.bias) / scaling.temperature;
    sum -= isPositive(labels[i]) ? logSigmoid(z) : logSigmoid(-z);
  }
  return margins.length === 0 ? Number.NaN : sum / margins.length;
}
