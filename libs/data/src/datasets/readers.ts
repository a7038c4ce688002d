import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNoneAnswer } from '../answer/cannot-answer.js';
import { parseNumber } from '../answer/parse-number.js';
import type { DatasetSource, Problem } from '../problem.js';
import { type DataDirOptions, DatasetMissingError, resolveDatasetFile } from './data-dir.js';

/** Reader options: an explicit `dataDir`, or the resolver's search (env → shared → cache). */
export interface ReadOptions extends DataDirOptions {
  readonly dataDir?: string;
}

/** A record that does not have the documented shape; names the file and line. */
export class MalformedRecordError extends Error {
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'MalformedRecordError';
  }
}

type JsonRecord = Record<string, unknown>;

function datasetPath(file: string, options: ReadOptions): string {
  if (options.dataDir === undefined) return resolveDatasetFile(file, options);
  const path = join(options.dataDir, file);
  if (!existsSync(path)) {
    throw new DatasetMissingError(file, [{ origin: 'env', dir: options.dataDir, how: 'dataDir option' }]);
  }
  return path;
}

function readJsonLines(path: string): { record: JsonRecord; line: number }[] {
  const out: { record: JsonRecord; line: number }[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (text.trim().length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new MalformedRecordError(path, i + 1, `invalid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new MalformedRecordError(path, i + 1, 'not a JSON object');
    }
    out.push({ record: parsed as JsonRecord, line: i + 1 });
  });
  return out;
}

function str(r: JsonRecord, key: string, path: string, line: number): string {
  const v = r[key];
  if (typeof v !== 'string') throw new MalformedRecordError(path, line, `field "${key}" is not a string`);
  return v;
}

function num(r: JsonRecord, key: string, path: string, line: number): number {
  const v = r[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new MalformedRecordError(path, line, `field "${key}" is not a finite number`);
  }
  return v;
}

/** Gold answer text → value: a number, or `null` for "None"; throws when neither. */
export function parseGoldAnswer(answerText: string, path: string, line: number): number | null {
  const value = parseNumber(answerText);
  if (value !== undefined) return value;
  if (isNoneAnswer(answerText)) return null;
  throw new MalformedRecordError(path, line, `gold answer ${JSON.stringify(answerText)} does not parse`);
}

/** The text after the last `####` of a GSM8K-style solution. */
function finalLine(solution: string, path: string, line: number): string {
  const at = solution.lastIndexOf('####');
  if (at < 0) throw new MalformedRecordError(path, line, 'solution has no "####" line');
  return solution.slice(at + 4).trim();
}

export type Gsm8kSplit = 'train' | 'test' | 'test_socratic';

/** GSM8K (`question`, `answer` = worked solution ending `#### N`, thousands separators allowed). */
export function readGsm8k(split: Gsm8kSplit, options: ReadOptions = {}): Problem[] {
  const path = datasetPath(`gsm8k/${split}.jsonl`, options);
  return readJsonLines(path).map(({ record, line }, i) => {
    const solution = str(record, 'answer', path, line);
    const answerText = finalLine(solution, path, line);
    return {
      id: `gsm8k-${split}-${i}`,
      source: 'gsm8k',
      question: str(record, 'question', path, line),
      answer: parseGoldAnswer(answerText, path, line),
      answerText,
      solution,
      meta: { split },
    };
  });
}

/**
 * SVAMP (a JSON array; `Body` + `Question`, float `Answer`). 358 bodies end in an "If ..." clause
 * without punctuation; those are joined with ", " and a lower-cased question so the text reads
 * as one sentence. The `Equation` is kept as the solution.
 */
export function readSvamp(options: ReadOptions = {}): Problem[] {
  const path = datasetPath('svamp/SVAMP.json', options);
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(parsed)) throw new MalformedRecordError(path, 1, 'not a JSON array');
  return parsed.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null)
      throw new MalformedRecordError(path, 1, `item ${i} not an object`);
    const r = item as JsonRecord;
    const body = str(r, 'Body', path, 1).trim();
    const q = str(r, 'Question', path, 1).trim();
    const question = /[.!?]$/.test(body)
      ? `${body} ${q}`
      : `${body}, ${q.charAt(0).toLowerCase()}${q.slice(1)}`;
    const answer = num(r, 'Answer', path, 1);
    return {
      id: `svamp-${str(r, 'ID', path, 1)}`,
      source: 'svamp',
      question,
      answer,
      answerText: String(answer),
      solution: str(r, 'Equation', path, 1).trim(),
      meta: { type: str(r, 'Type', path, 1) },
    };
  });
}

/** GSM-Plus testmini: string `answer` (ints, decimals, fractions, `"None"`), `perturbation_type` kept. */
export function readGsmPlus(options: ReadOptions = {}): Problem[] {
  const path = datasetPath('gsm-plus/gsmplus_testmini.jsonl', options);
  return readJsonLines(path).map(({ record, line }, i) => {
    const answerText = str(record, 'answer', path, line).trim();
    return {
      id: `gsm-plus-testmini-${i}`,
      source: 'gsm-plus',
      question: str(record, 'question', path, line),
      answer: parseGoldAnswer(answerText, path, line),
      answerText,
      solution: str(record, 'solution', path, line),
      // seed_question is safe to keep; seed_solution/seed_answer would leak an answer to unlabeled use.
      meta: {
        perturbationType: str(record, 'perturbation_type', path, line),
        seedQuestion: str(record, 'seed_question', path, line),
      },
    };
  });
}

/** GSM-Hard v2 (`input`, float `target`); its `code` solves the original question, so it is dropped. */
export function readGsmHard(options: ReadOptions = {}): Problem[] {
  const path = datasetPath('gsm-hard/gsmhardv2.jsonl', options);
  return readJsonLines(path).map(({ record, line }, i) => {
    const answer = num(record, 'target', path, line);
    return {
      id: `gsm-hard-${i}`,
      source: 'gsm-hard',
      question: str(record, 'input', path, line),
      answer,
      answerText: String(answer),
      meta: {},
    };
  });
}

export const MAWPS_SUBSETS = ['addsub', 'multiarith', 'singleeq', 'singleop'] as const;
export type MawpsSubset = (typeof MAWPS_SUBSETS)[number];

/** MAWPS (PAL packaging: `input`, numeric `target`); all four subsets by default, in that order. */
export function readMawps(options: ReadOptions & { subsets?: readonly MawpsSubset[] } = {}): Problem[] {
  const out: Problem[] = [];
  for (const subset of options.subsets ?? MAWPS_SUBSETS) {
    const path = datasetPath(`mawps/mawps${subset}.jsonl`, options);
    readJsonLines(path).forEach(({ record, line }, i) => {
      const answer = num(record, 'target', path, line);
      out.push({
        id: `mawps-${subset}-${i}`,
        source: 'mawps' satisfies DatasetSource,
        question: str(record, 'input', path, line),
        answer,
        answerText: String(answer),
        meta: { subset },
      });
    });
  }
  return out;
}
