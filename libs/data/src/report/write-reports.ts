import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SampledItem } from '../eval/score.js';
import type { EvalResult } from './eval-result.js';
import { appendHistory, HISTORY_FILE, readHistory, toHistoryEntry } from './history.js';
import { renderHtmlReport } from './html-report.js';

/** A sortable, file-name-safe run id: `20261126T134900Z-1a2b3c`. */
export function createRunId(at: Date = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(/[-:]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export interface WriteReportsOptions {
  readonly outDir: string;
  readonly results: readonly EvalResult[];
  /** Per-suite outputs (greedy text, samples), kept in the run's JSON file for inspection. */
  readonly items?: Readonly<Record<string, readonly SampledItem[]>>;
  readonly runId?: string;
  readonly now?: () => Date;
  readonly title?: string;
}

export interface WrittenReports {
  readonly runId: string;
  /** `<out>/runs/<run>.json`: `{ run_id, results, items }`. */
  readonly json: string;
  /** `<out>/runs/<run>.html`: this run plus the history up to it. */
  readonly runHtml: string;
  /** `<out>/report.html`: the latest report (same content as runHtml, overwritten each run). */
  readonly html: string;
  readonly history: string;
}

/** Temp file + rename, so a reader never sees half a report. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Writes a run's reports into a report folder: the results JSON, one history line per suite
 * (appended to `history.jsonl`), and the self-contained HTML report with the whole history.
 */
export function writeRunReports(options: WriteReportsOptions): WrittenReports {
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? createRunId(now());
  const runsDir = join(options.outDir, 'runs');
  mkdirSync(runsDir, { recursive: true });
  const json = join(runsDir, `${runId}.json`);
  writeAtomic(
    json,
    `${JSON.stringify({ run_id: runId, results: options.results, items: options.items ?? {} }, null, 1)}\n`,
  );
  appendHistory(
    options.outDir,
    options.results.map((r) => toHistoryEntry(runId, r)),
  );
  const { entries } = readHistory(options.outDir);
  const html = renderHtmlReport({
    ...(options.title !== undefined ? { title: options.title } : {}),
    runId,
    generatedAt: now().toISOString(),
    results: options.results,
    history: entries,
  });
  const runHtml = join(runsDir, `${runId}.html`);
  writeAtomic(runHtml, html);
  const latest = join(options.outDir, 'report.html');
  writeAtomic(latest, html);
  return { runId, json, runHtml, html: latest, history: join(options.outDir, HISTORY_FILE) };
}
