import { isNoneAnswer, lastCannotAnswerIndex } from './cannot-answer.js';
import { findNumbers, parseNumber } from './parse-number.js';

/** What an extractor read from a solution text. */
export type Extraction =
  | { readonly kind: 'number'; readonly value: number; readonly raw: string }
  /** The text says the question cannot be answered (`#### None`, "cannot be determined"). */
  | { readonly kind: 'none'; readonly raw: string }
  /** No final answer could be read. */
  | { readonly kind: 'missing' };

export type ExtractionMode = 'strict' | 'flexible';

const MISSING: Extraction = { kind: 'missing' };

/** GSM8K calculator annotations `<<48/4=12>>` repeat the arithmetic; drop them before reading. */
function stripCalculatorAnnotations(text: string): string {
  return text.replaceAll(/<<[^<>]*>>/g, '');
}

/**
 * Strict extraction: the last `#### X` line. X is parsed as a number (commas, `$`, `%`, units,
 * fractions, decimals, negatives, trailing `.` allowed) or read as "none" (`None`, "cannot be
 * determined"); anything else is missing.
 */
export function extractStrict(text: string): Extraction {
  const at = text.lastIndexOf('####');
  if (at < 0) return MISSING;
  const rest = text.slice(at + 4);
  const line = (rest.split('\n', 1)[0] ?? '').trim();
  if (line.length === 0) return MISSING;
  const value = parseNumber(line);
  // A number wins over a phrase on the same line ("#### 5, we don't know more" reads 5).
  if (value !== undefined) return { kind: 'number', value, raw: line };
  if (isNoneAnswer(line)) return { kind: 'none', raw: line };
  return MISSING;
}

/**
 * Flexible extraction: the last number anywhere in the text, unless a cannot-answer statement
 * (or a `#### None` line) comes after it, in which case the answer is "none".
 */
export function extractFlexible(text: string): Extraction {
  const clean = stripCalculatorAnnotations(text);
  const numbers = findNumbers(clean);
  const lastNumber = numbers[numbers.length - 1];
  const noneLine = /####\s*(?:none|n\/a|unknown)\b/gi;
  let noneAt = lastCannotAnswerIndex(clean);
  for (let m = noneLine.exec(clean); m !== null; m = noneLine.exec(clean)) noneAt = Math.max(noneAt, m.index);
  if (noneAt >= 0 && (lastNumber === undefined || noneAt > lastNumber.index)) {
    return { kind: 'none', raw: clean.slice(noneAt, noneAt + 40) };
  }
  if (lastNumber === undefined) return MISSING;
  return { kind: 'number', value: lastNumber.value, raw: lastNumber.raw };
}

export function extractAnswer(text: string, mode: ExtractionMode): Extraction {
  return mode === 'strict' ? extractStrict(text) : extractFlexible(text);
}

/** The extraction as a gold-style value: number, `null` for "none", `undefined` when missing. */
export function extractionValue(e: Extraction): number | null | undefined {
  if (e.kind === 'number') return e.value;
  if (e.kind === 'none') return null;
  return undefined;
}
