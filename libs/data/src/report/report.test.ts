import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ORACLE_MODEL, WRONG_MODEL } from '../eval/pseudo-models.js';
import type { EvalResult } from './eval-result.js';
import { appendHistory, HISTORY_FILE, type HistoryEntry, readHistory, toHistoryEntry } from './history.js';
import { renderHtmlReport } from './html-report.js';
import { createPseudoGenerator, runSuiteEval } from './suite-run.js';
import { escapeHtml } from './svg-charts.js';
import { createRunId, writeRunReports } from './write-reports.js';

const svgCount = (html: string): number => html.match(/<svg /g)?.length ?? 0;

async function toyResult(
  model: 'oracle' | 'wrong',
  suite: 'toy-id' | 'toy-ood',
  samples = 0,
): Promise<EvalResult> {
  const pseudo = model === 'oracle' ? ORACLE_MODEL : WRONG_MODEL;
  return (await runSuiteEval({ suite, generator: createPseudoGenerator(pseudo), limit: 30, samples })).result;
}

test('escapeHtml escapes the five special characters', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('renders one SVG per chart: suite, strict/flexible, maj@k, per category (x2), history', async () => {
  const a = await toyResult('oracle', 'toy-id', 2);
  const b = await toyResult('wrong', 'toy-ood');
  const history: HistoryEntry[] = [
    toHistoryEntry('run-1', b),
    toHistoryEntry('run-2', a),
    toHistoryEntry('run-2', b),
  ];
  const html = renderHtmlReport({
    runId: 'run-2',
    generatedAt: '2026-01-01T00:00:00Z',
    results: [a, b],
    history,
  });
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  // 3 run charts (maj@k present for toy-id) + 2 per-category charts (toy difficulty) + 1 history chart.
  assert.equal(svgCount(html), 6);
  assert.equal(html.match(/<\/svg>/g)?.length, 6);
  assert.match(html, /maj@k vs greedy/);
  assert.match(html, /toy-id: accuracy per category/);
  assert.match(html, /Greedy accuracy \(strict\) over runs/);
  // History line: one path per series with ≥1 point; toy-ood has points in both runs.
  assert.match(html, /<path d="M[^"]*L[^"]*"/);
  // Self-contained: no scripts, no external references.
  assert.doesNotMatch(html, /<script|<link|src=|href=|@import|url\(/i);
  assert.match(html, /100\.0%/);
});

test('text from results is escaped (model names, suite names, categories)', async () => {
  const a = await toyResult('oracle', 'toy-id');
  const evil: EvalResult = {
    ...a,
    model: '<script>alert(1)</script>',
    per_category: { '<b>x</b>': a.per_category['1']! },
  };
  const html = renderHtmlReport({
    title: 'A & B',
    runId: '"><img>',
    generatedAt: 'now',
    results: [evil],
    history: [toHistoryEntry('"><img>', evil)],
  });
  assert.doesNotMatch(html, /<script>alert/);
  assert.doesNotMatch(html, /<b>x<\/b>/);
  assert.doesNotMatch(html, /"><img>/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /<title>A &amp; B<\/title>/);
});

test('empty run and empty history still render (history chart shows no runs)', () => {
  const html = renderHtmlReport({ runId: 'r', generatedAt: 'now', results: [], history: [] });
  assert.equal(svgCount(html), 1);
  assert.match(html, /no runs yet/);
  assert.match(html, /No suite results in this run/);
});

test('history: append, read back in order, torn lines skipped and not merged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-history-'));
  try {
    assert.deepEqual(readHistory(dir), { entries: [], skippedLines: 0 });
    const a = await toyResult('oracle', 'toy-id');
    appendHistory(dir, [toHistoryEntry('r1', a)]);
    appendFileSync(join(dir, HISTORY_FILE), '{"run_id":"r-torn","sui'); // a killed writer
    appendHistory(dir, [
      toHistoryEntry('r2', a),
      toHistoryEntry('r2', { ...a, suite: 'toy-ood', accuracy: 0.5 }),
    ]);
    const { entries, skippedLines } = readHistory(dir);
    assert.equal(skippedLines, 1);
    assert.deepEqual(
      entries.map((e) => [e.run_id, e.suite, e.accuracy]),
      [
        ['r1', 'toy-id', 1],
        ['r2', 'toy-id', 1],
        ['r2', 'toy-ood', 0.5],
      ],
    );
    writeFileSync(join(dir, HISTORY_FILE), '[1,2]\n');
    assert.equal(readHistory(dir).skippedLines, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeRunReports: JSON, history grows across runs, HTML charts the history', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-reports-'));
  try {
    const a = await toyResult('oracle', 'toy-id');
    const b = await toyResult('wrong', 'toy-id');
    const first = writeRunReports({ outDir: dir, results: [a], runId: 'run-a' });
    const second = writeRunReports({ outDir: dir, results: [b], runId: 'run-b' });
    const doc = JSON.parse(readFileSync(first.json, 'utf8'));
    assert.equal(doc.run_id, 'run-a');
    assert.equal(doc.results[0].accuracy, 1);
    assert.equal(readHistory(dir).entries.length, 2);
    const html = readFileSync(second.html, 'utf8');
    assert.equal(html, readFileSync(second.runHtml, 'utf8'));
    assert.match(html, /run-a/);
    assert.match(html, /run-b/);
    // Two points on the toy-id line (100% then 0%).
    assert.equal(html.match(/<circle /g)?.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('createRunId is sortable by time and file-name safe', () => {
  const a = createRunId(new Date('2026-01-02T03:04:05.678Z'));
  assert.match(a, /^20260102T030405Z-[0-9a-f]{6}$/);
  assert.ok(createRunId(new Date('2026-01-02T03:04:06Z')) > a);
});
