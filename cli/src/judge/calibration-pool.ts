import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../framework/usage-error.js';

/** One labeled judgment of the pool: was `answer` a right solution of `question`? */
export interface PoolItem {
  readonly question: string;
  readonly answer: string;
  readonly label: boolean;
}

export interface CalibrationPool {
  readonly items: PoolItem[];
  readonly positives: number;
  /** Hex sha256 of the file's bytes. */
  readonly sha256: string;
}

function parseLabel(value: unknown): boolean | undefined {
  if (value === true || value === 1) return true;
  if (value === false || value === 0) return false;
  return undefined;
}

/**
 * Reads a calibration pool: JSONL, one `{"question", "solution" | "answer", "label"}` per line,
 * label true/false or 1/0 (blank lines skipped; other fields ignored). Every problem is a
 * UsageError naming --pool (and the line); a pool the fit cannot use — fewer than `minItems`
 * items, or fewer than 2 of either label (each split needs both) — is refused before the judge
 * model is loaded.
 */
export function readCalibrationPool(path: string, minItems: number): CalibrationPool {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`--pool ${path} cannot be read: ${(e as Error).message}`);
  }
  const items: PoolItem[] = [];
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new UsageError(`--pool line ${i + 1} is not JSON`);
      }
      const r = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
      const question = r['question'];
      const answer = typeof r['solution'] === 'string' ? r['solution'] : r['answer'];
      if (typeof question !== 'string' || question.trim() === '') {
        throw new UsageError(`--pool line ${i + 1} needs a non-empty string "question"`);
      }
      if (typeof answer !== 'string' || answer.trim() === '') {
        throw new UsageError(`--pool line ${i + 1} needs a non-empty string "solution" (or "answer")`);
      }
      const label = parseLabel(r['label']);
      if (label === undefined) {
        throw new UsageError(
          `--pool line ${i + 1}: "label" must be true/false or 1/0 (got ${JSON.stringify(r['label'])})`,
        );
      }
      items.push({ question, answer, label });
    });
  if (items.length < minItems) {
    throw new UsageError(
      `--pool ${path} holds ${items.length} labeled items, fewer than --min-items (${minItems})`,
    );
  }
  const positives = items.filter((x) => x.label).length;
  const negatives = items.length - positives;
  if (positives < 2 || negatives < 2) {
    throw new UsageError(
      `--pool ${path} has ${positives} true and ${negatives} false labels: calibration needs at least 2 of each`,
    );
  }
  return { items, positives, sha256: createHash('sha256').update(bytes).digest('hex') };
}
