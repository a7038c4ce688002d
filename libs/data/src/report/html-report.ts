import type { EvalResult } from './eval-result.js';
import type { HistoryEntry } from './history.js';
import { type BarGroup, barChartSvg, escapeHtml, type LineSeries, lineChartSvg } from './svg-charts.js';

export interface HtmlReportInput {
  readonly title?: string;
  readonly runId: string;
  /** ISO time printed in the header. */
  readonly generatedAt: string;
  /** This run's suites. */
  readonly results: readonly EvalResult[];
  /** All runs so far, oldest first (this run included when already appended). */
  readonly history: readonly HistoryEntry[];
}

const pct = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.chart{margin:12px 0;overflow-x:auto}.meta{color:#555;font-size:13px}`;

function resultsTable(results: readonly EvalResult[]): string {
  const rows = results.map(
    (r) =>
      `<tr><td>${escapeHtml(r.suite)}</td><td>${r.n}</td><td>${pct(r.strict.accuracy)}</td>` +
      `<td>${pct(r.flexible.accuracy)}</td><td>${r.k === null ? '—' : `${pct(r.maj_at_k)} (k=${r.k})`}</td>` +
      `<td>${pct(r.flexible.maj_at_k)}</td><td>${escapeHtml(r.model)}${r.model_version === null ? '' : ` v${escapeHtml(r.model_version)}`}</td>` +
      `<td>${escapeHtml(r.template)} ${escapeHtml(r.template_version)}</td><td>${(r.duration_ms / 1000).toFixed(1)} s</td></tr>`,
  );
  return (
    '<table><tr><th>suite</th><th>n</th><th>greedy strict</th><th>greedy flexible</th><th>maj@k strict</th>' +
    `<th>maj@k flexible</th><th>model</th><th>template</th><th>time</th></tr>${rows.join('')}</table>`
  );
}

function categoryTable(r: EvalResult): string {
  const rows = Object.entries(r.per_category).map(
    ([name, c]) =>
      `<tr><td>${escapeHtml(name)}</td><td>${c.n}</td><td>${pct(c.strict.accuracy)}</td><td>${pct(c.flexible.accuracy)}</td>` +
      `<td>${pct(c.strict.maj_at_k)}</td></tr>`,
  );
  return `<table><tr><th>category</th><th>n</th><th>strict</th><th>flexible</th><th>maj@k</th></tr>${rows.join('')}</table>`;
}

/** Series key for history lines: the suite, plus the model when the history mixes models. */
function historySeries(history: readonly HistoryEntry[]): { xLabels: string[]; series: LineSeries[] } {
  const runIds: string[] = [];
  const labels: string[] = [];
  for (const e of history) {
    if (runIds.includes(e.run_id)) continue;
    runIds.push(e.run_id);
    // "11-26 13:59 · 13e63a": the start time reads better than the id; the id's tail keeps runs apart.
    const when = /^\d{4}-(\d\d-\d\dT\d\d:\d\d)/.exec(e.started_at)?.[1]?.replace('T', ' ');
    labels.push(when === undefined ? e.run_id : `${when} · ${e.run_id.slice(-6)}`);
  }
  const mixedModels = new Set(history.map((e) => e.model)).size > 1;
  const keyOf = (e: HistoryEntry): string => (mixedModels ? `${e.suite} · ${e.model}` : e.suite);
  const keys: string[] = [];
  for (const e of history) if (!keys.includes(keyOf(e))) keys.push(keyOf(e));
  const series = keys.map((key) => {
    const points: (number | undefined)[] = runIds.map(() => undefined);
    for (const e of history) if (keyOf(e) === key) points[runIds.indexOf(e.run_id)] = e.accuracy;
    return { name: key, points };
  });
  return { xLabels: labels, series };
}

function chart(svg: string): string {
  return `<div class="chart">${svg}</div>`;
}

/**
 * A self-contained HTML report (inline CSS and SVG, no scripts or external assets): this run's
 * accuracy per suite, strict vs flexible, maj@k vs greedy, per-category bars, and accuracy over
 * all runs of the history. Pure: data in, HTML out.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const title = input.title ?? 'Verdict evaluation report';
  const results = input.results;
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">run ${escapeHtml(input.runId)} · generated ${escapeHtml(input.generatedAt)} · ` +
      `${results.length} suite(s) · ${input.history.length} history entr${input.history.length === 1 ? 'y' : 'ies'}</p>`,
    '<h2>This run</h2>',
  ];
  if (results.length === 0) {
    parts.push('<p>No suite results in this run.</p>');
  } else {
    parts.push(resultsTable(results));
    parts.push(
      chart(
        barChartSvg({
          title: 'Greedy accuracy per suite (strict)',
          series: ['greedy'],
          groups: results.map((r) => ({ label: r.suite, values: [r.accuracy] })),
        }),
      ),
    );
    parts.push(
      chart(
        barChartSvg({
          title: 'Strict (#### N) vs flexible (last number)',
          series: ['strict', 'flexible'],
          groups: results.map((r) => ({ label: r.suite, values: [r.strict.accuracy, r.flexible.accuracy] })),
        }),
      ),
    );
    const withMaj = results.filter((r) => r.maj_at_k !== null);
    if (withMaj.length > 0) {
      parts.push(
        chart(
          barChartSvg({
            title: 'maj@k vs greedy (strict)',
            series: ['greedy', 'maj@k'],
            groups: withMaj.map((r) => ({
              label: `${r.suite} (k=${r.k})`,
              values: [r.accuracy, r.maj_at_k!],
            })),
          }),
        ),
      );
    }
    for (const r of results) {
      const categories = Object.entries(r.per_category);
      if (categories.length === 0) continue;
      parts.push(`<h2>${escapeHtml(r.suite)}: per category</h2>`);
      const groups: BarGroup[] = categories.map(([name, c]) => ({
        label: name,
        values: [c.strict.accuracy, c.flexible.accuracy],
      }));
      parts.push(
        chart(
          barChartSvg({ title: `${r.suite}: accuracy per category`, series: ['strict', 'flexible'], groups }),
        ),
      );
      parts.push(categoryTable(r));
    }
  }
  parts.push('<h2>History</h2>');
  const { xLabels, series } = historySeries(input.history);
  parts.push(chart(lineChartSvg({ title: 'Greedy accuracy (strict) over runs', xLabels, series })));
  if (input.history.length === 0) parts.push('<p>No earlier runs recorded.</p>');
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}
