// The load-curve page: one self-contained HTML file (inline SVG, no scripts, no external assets) with
// a summary table, and per server a table and four charts against the offered load (× capacity).
// The charts are the experiment report's line chart (@verdict/recipes lineChartSvg).
import { lineChartSvg } from '@verdict/recipes';
import { formatRejected, type LoadCurve } from './load-generator.js';

type Series = Parameters<typeof lineChartSvg>[1][number];

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function series(name: string, color: string, curve: LoadCurve, y: (i: number) => number): Series {
  const points = curve.steps
    .map((s, i) => ({ x: s.multiplier, y: y(i) }))
    .filter((p) => Number.isFinite(p.y));
  return { name, color, points, alarmStep: null };
}

function legend(items: readonly Series[]): string {
  return items.map((s) => `<span style="color:${s.color}">&#9632;</span> ${esc(s.name)}`).join(' &nbsp; ');
}

function chart(title: string, items: readonly Series[], yLabel: string): string {
  return `<figure>${lineChartSvg(title, items, yLabel, 'offered load (× capacity)')}<figcaption>${legend(items)}</figcaption></figure>`;
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

function curveSection(curve: LoadCurve, notes: string): string {
  const u = curve.unit;
  const codes = [...new Set(curve.steps.flatMap((s) => Object.keys(s.rejected)))].sort();
  const rows = curve.steps
    .map(
      (s) =>
        `<tr><td>${s.multiplier}×</td><td>${fmt(s.offeredUnitsPerS)}</td><td>${fmt(s.acceptedUnitsPerS)}</td>` +
        `<td>${s.sent}</td><td>${s.accepted}</td><td>${fmt(s.p50Ms)}</td><td>${fmt(s.p99Ms)}</td>` +
        `<td>${esc(formatRejected(s.rejected))}</td><td>${fmt(s.rssStartMiB)} → ${fmt(s.rssPeakMiB)}</td><td>${fmt(s.serverCpuS, 2)}</td><td>${fmt(s.loadGenCpuS, 2)}</td></tr>`,
    )
    .join('\n');
  const charts = [
    chart(
      `${u}/s: offered and accepted`,
      [
        series('offered', COLORS[0]!, curve, (i) => curve.steps[i]!.offeredUnitsPerS),
        series('accepted', COLORS[2]!, curve, (i) => curve.steps[i]!.acceptedUnitsPerS),
      ],
      `${u}/s`,
    ),
    chart(
      'latency of accepted calls',
      [
        series('p50', COLORS[0]!, curve, (i) => curve.steps[i]!.p50Ms),
        series('p99', COLORS[1]!, curve, (i) => curve.steps[i]!.p99Ms),
      ],
      'ms',
    ),
    chart(
      'rejected calls (% of sent)',
      (codes.length === 0 ? ['RESOURCE_EXHAUSTED'] : codes).map((code, c) =>
        series(code, COLORS[(c + 1) % COLORS.length]!, curve, (i) => {
          const s = curve.steps[i]!;
          return s.sent === 0 ? 0 : (100 * (s.rejected[code] ?? 0)) / s.sent;
        }),
      ),
      '%',
    ),
    chart(
      'server RSS (peak during the step)',
      [series('RSS', COLORS[4]!, curve, (i) => curve.steps[i]!.rssPeakMiB)],
      'MiB',
    ),
  ].join('\n');
  return `<section>
<h2>${esc(curve.target)}</h2>
<p>${esc(notes)}</p>
<p>Capacity (closed loop): <b>${fmt(curve.capacityUnitsPerS)} ${u}/s</b>; reached under open-loop load: <b>${fmt(curve.reachedUnitsPerS)} ${u}/s</b>.</p>
<table><tr><th>load</th><th>offered ${u}/s</th><th>accepted ${u}/s</th><th>sent</th><th>ok</th><th>p50 ms</th><th>p99 ms</th><th>rejected</th><th>RSS MiB</th><th>server CPU s</th><th>load-gen CPU s</th></tr>
${rows}
</table>
<div class="charts">${charts}</div>
</section>`;
}

export interface LoadPageEntry {
  readonly curve: LoadCurve;
  /** What was measured: model, server config, request shape. */
  readonly notes: string;
}

/** The whole page. `context` says where and under what load it was measured. */
export function renderLoadCurvePage(entries: readonly LoadPageEntry[], context: string): string {
  const summary = entries
    .map(({ curve }) => {
      const at = (m: number) => curve.steps.find((s) => s.multiplier === m);
      const top = curve.steps.at(-1);
      return (
        `<tr><td>${esc(curve.target)}</td><td>${fmt(curve.capacityUnitsPerS)} ${curve.unit}/s</td>` +
        `<td>${fmt(curve.reachedUnitsPerS)} ${curve.unit}/s</td><td>${fmt(at(1)?.p99Ms ?? Number.NaN)}</td>` +
        `<td>${top === undefined ? '–' : `${top.multiplier}×: ${fmt(top.p99Ms)}`}</td>` +
        `<td>${top === undefined ? '–' : esc(formatRejected(top.rejected))}</td></tr>`
      );
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Verdict load curves</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1000px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}figure{display:inline-block;margin:6px}figcaption{font-size:12px;text-align:center}
</style></head><body>
<h1>Load curves</h1>
<p>${esc(context)}</p>
<p>Open-loop offered load (calls leave on a schedule, whatever the server answers) from a fraction to a multiple of the
capacity measured in a closed loop just before; latency is that of accepted calls, send to last byte; RSS is the server
process's.</p>
<table><tr><th>server</th><th>capacity (closed loop)</th><th>reached (open loop)</th><th>p99 ms at 1×</th><th>p99 ms at top load</th><th>rejected at top load</th></tr>
${summary}
</table>
${entries.map((e) => curveSection(e.curve, e.notes)).join('\n')}
</body></html>
`;
}
