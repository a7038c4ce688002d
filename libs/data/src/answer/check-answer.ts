import { type ExtractionMode, extractAnswer, extractionValue } from './extract.js';

export interface Tolerance {
  /** Absolute slack for float noise (`0.1 + 0.2`); default 1e-6. */
  readonly absTol?: number;
  /** Relative slack for large magnitudes (GSM-Hard answers reach 1e12); default 1e-9. */
  readonly relTol?: number;
}

/**
 * Whether a predicted answer equals the gold one. `null` is "cannot be answered" and only equals
 * `null`; `undefined` (nothing extracted) equals nothing. Numbers compare within
 * `absTol + relTol * |gold|`; no rounding is applied, so 4.333 does not equal a gold 4.33.
 */
export function answersEqual(
  predicted: number | null | undefined,
  gold: number | null,
  tolerance: Tolerance = {},
): boolean {
  if (predicted === undefined) return false;
  if (predicted === null || gold === null) return predicted === gold;
  const absTol = tolerance.absTol ?? 1e-6;
  const relTol = tolerance.relTol ?? 1e-9;
  return Math.abs(predicted - gold) <= absTol + relTol * Math.abs(gold);
}

/** The one answer check used by rewards and evaluation: extract with `mode`, compare to gold. */
export function checkAnswer(
  text: string,
  gold: number | null,
  mode: ExtractionMode,
  tolerance: Tolerance = {},
): boolean {
  return answersEqual(extractionValue(extractAnswer(text, mode)), gold, tolerance);
}
