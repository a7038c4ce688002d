import { createHash } from 'node:crypto';
import type { TemperatureScaling } from './temperature-scaling.js';

/** `format` of a calibration.json this code writes and reads. */
export const JUDGE_CALIBRATION_FORMAT = 'verdict-judge-calibration/1';

/** ECE / Brier / NLL of one split, before (raw σ(m)) and after calibration. */
export interface CalibrationSplitMetrics {
  readonly items: number;
  readonly ece_before: number;
  readonly ece_after: number;
  readonly brier_before: number;
  readonly brier_after: number;
  readonly nll_before: number;
  readonly nll_after: number;
}

/**
 * calibration.json as `verdict judge calibrate` writes it (snake_case, like the CLI's JSON).
 * The judge-server needs only `format`, `temperature`, `bias` and `judge.template_*`; the rest
 * says where the parameters came from and how much they helped.
 */
export interface JudgeCalibrationDocument {
  readonly format: typeof JUDGE_CALIBRATION_FORMAT;
  readonly method: 'temperature-bias';
  /** What the parameters apply to: the margin z_yes − z_no at the judge's last prompt position. */
  readonly margin: 'z_yes - z_no';
  readonly temperature: number;
  readonly bias: number;
  /** The judge prompt the margins were read under: the calibration applies to that template only. */
  readonly judge: {
    readonly model_id: string;
    readonly template_name: string;
    readonly template_hash: string;
  };
  readonly pool: {
    readonly file: string;
    /** Hex sha256 of the pool file's bytes. */
    readonly sha256: string;
    readonly items: number;
    readonly positives: number;
    readonly fit_items: number;
    readonly held_out_items: number;
    readonly seed: number;
  };
  /** Equal-width ECE bins over [0, 1]. */
  readonly bins: number;
  readonly metrics: { readonly fit: CalibrationSplitMetrics; readonly held_out: CalibrationSplitMetrics };
}

/** A calibration as a judge applies it. */
export interface LoadedJudgeCalibration extends TemperatureScaling {
  readonly templateName: string;
  readonly templateHash: string;
  /** Hex sha256 of the file's bytes: what provenance names. */
  readonly hash: string;
}

/** A calibration file that cannot be used; the message names the file and the field. */
export class JudgeCalibrationFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JudgeCalibrationFileError';
  }
}

/** The document's canonical text (what the hash covers when written by this code). */
export function formatJudgeCalibration(doc: JudgeCalibrationDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Reads the fields a judge needs from calibration.json text, checking each: a file that is not
 * this format, or a temperature that is not a positive finite number, is refused rather than
 * applied. `source` names the file in messages.
 */
export function parseJudgeCalibration(text: string, source: string): LoadedJudgeCalibration {
  const fail = (field: string, why: string): never => {
    throw new JudgeCalibrationFileError(`${source}: ${field} ${why}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    return fail('(file)', `is not JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null) return fail('(file)', 'is not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d['format'] !== JUDGE_CALIBRATION_FORMAT) {
    fail('format', `must be "${JUDGE_CALIBRATION_FORMAT}" (got ${JSON.stringify(d['format'])})`);
  }
  const temperature = d['temperature'];
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
    fail('temperature', `must be a finite number > 0 (got ${JSON.stringify(temperature)})`);
  }
  const bias = d['bias'];
  if (typeof bias !== 'number' || !Number.isFinite(bias)) {
    fail('bias', `must be a finite number (got ${JSON.stringify(bias)})`);
  }
  const judge = (typeof d['judge'] === 'object' && d['judge'] !== null ? d['judge'] : {}) as Record<
    string,
    unknown
  >;
  const templateName = judge['template_name'];
  if (typeof templateName !== 'string' || templateName === '') {
    fail('judge.template_name', 'must be a non-empty string');
  }
  const templateHash = judge['template_hash'];
  if (typeof templateHash !== 'string' || !/^[0-9a-f]{64}$/.test(templateHash)) {
    fail('judge.template_hash', 'must be a hex sha256');
  }
  return {
    temperature: temperature as number,
    bias: bias as number,
    templateName: templateName as string,
    templateHash: templateHash as string,
    hash: createHash('sha256').update(text).digest('hex'),
  };
}
