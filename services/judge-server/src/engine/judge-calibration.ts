import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyTemperatureScaling,
  JudgeCalibrationFileError,
  type LoadedJudgeCalibration,
  parseJudgeCalibration,
} from '@verdict/rl/judge-calibration';
import { VerdictError } from '@verdict/runtime';

export type { LoadedJudgeCalibration } from '@verdict/rl/judge-calibration';

/** The file name `verdict judge calibrate` writes into the model folder by default. */
export const CALIBRATION_FILE_NAME = 'calibration.json';

/**
 * The calibration the server applies: JUDGE_CALIBRATION_FILE when set ("none" = no calibration),
 * otherwise <model dir>/calibration.json when that file exists. A named file that is missing or
 * unusable is a configuration error naming the variable, not a silently raw server.
 */
export function readJudgeCalibration(
  calibrationFile: string | undefined,
  modelDir: string,
): LoadedJudgeCalibration | undefined {
  if (calibrationFile === 'none') return undefined;
  const path = calibrationFile ?? join(modelDir, CALIBRATION_FILE_NAME);
  if (calibrationFile === undefined && !existsSync(path)) return undefined;
  const origin =
    calibrationFile === undefined ? `${path} (in JUDGE_MODEL_DIR)` : `JUDGE_CALIBRATION_FILE ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new VerdictError('INVALID_ARGUMENT', `${origin} cannot be read: ${(error as Error).message}`, {
      field: 'JUDGE_CALIBRATION_FILE',
    });
  }
  try {
    return parseJudgeCalibration(text, origin);
  } catch (error) {
    if (!(error instanceof JudgeCalibrationFileError)) throw error;
    throw new VerdictError('INVALID_ARGUMENT', error.message, { field: 'JUDGE_CALIBRATION_FILE' });
  }
}

/**
 * The calibrated score of one judged item, when the calibration was fitted under the item's
 * template (margins of another prompt are on another scale: they get no calibrated score).
 */
export function calibratedScore(
  calibration: LoadedJudgeCalibration | undefined,
  templateHash: string,
  zYes: number,
  zNo: number,
): number | undefined {
  if (calibration === undefined || calibration.templateHash !== templateHash) return undefined;
  return applyTemperatureScaling(zYes - zNo, calibration);
}
