import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalResult } from './eval-result.js';

/** The history file kept in a report folder: one JSON line per (run, suite), appended. */
export const HISTORY_FILE = 'history.jsonl';

/** One line of history: a suite's headline numbers in one run. */
export interface HistoryEntry {
  readonly run_id: string;
  readonly suite: string;
  readonly model: string;
  readonly model_version: string | null;
  readonly template_version: string;
  readonly n: number;
  readonly accuracy: number;
  readonly strict: number;
  readonly flexible: number;
  readonly maj_at_k: number | null;
  readonly k: number | null;
  readonly started_at: string;
  readonly finished_at: string;
}

export function toHistoryEntry(runId: string, r: EvalResult): HistoryEntry {
  return {
    run_id: runId,
    suite: r.suite,
    model: r.model,
    model_version: r.model_version,
    template_version: r.template_version,
    n: r.n,
    accuracy: r.accuracy,
    strict: r.strict.accuracy,
    flexible: r.flexible.accuracy,
    maj_at_k: r.maj_at_k,
    k: r.k,
    started_at: r.started_at,
    finished_at: r.finished_at,
  };
}

function isHistoryEntry(x: unknown): x is HistoryEntry {
  const e = x as Partial<HistoryEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.run_id === 'string' &&
    typeof e.suite === 'string' &&
    typeof e.accuracy === 'number'
  );
}

/**
 * The history of a report folder, oldest first. A line that does not parse (a run killed in the
 * middle of an append) is skipped and counted, so one bad line never hides the rest.
 */
export function readHistory(dir: string): { entries: HistoryEntry[]; skippedLines: number } {
  const file = join(dir, HISTORY_FILE);
  if (!existsSync(file)) return { entries: [], skippedLines: 0 };
  const entries: HistoryEntry[] = [];
  let skippedLines = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isHistoryEntry(parsed)) entries.push(parsed);
      else skippedLines++;
    } catch {
      skippedLines++;
    }
  }
  return { entries, skippedLines };
}

/** Appends entries as JSON lines (one write, so concurrent runs interleave whole lines). */
export function appendHistory(dir: string, entries: readonly HistoryEntry[]): void {
  if (entries.length === 0) return;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, HISTORY_FILE);
  // A torn last line from a killed run must not swallow the first new entry.
  let lead = '';
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) lead = '\n';
  }
  appendFileSync(file, lead + entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
}
