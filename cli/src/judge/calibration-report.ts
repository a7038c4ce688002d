import { barChartSvg, escapeHtml, lineChartSvg } from '@verdict/data';
import type { CalibrationBin, CalibrationSplitMetrics, JudgeCalibrationDocument } from '@verdict/rl';

/** One split's metrics and its equal-width bins before (raw σ(m)) and after calibration. */
export interface SplitReliability {
  readonly metrics: CalibrationSplitMetrics;
  readonly before: readonly CalibrationBin[];
  readonly after: readonly CalibrationBin[];
}

export interface CalibrationReportInput {
  readonly document: JudgeCalibrationDocument;
  readonly fit: SplitReliability;
  readonly heldOut: SplitReliability;
  readonly calibrationFile: string;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}' +
  'td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}' +
  'td:first-child,th:first-child{text-align:left}.meta{color:#666}figure{margin:16px 0}';

const num = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : '—');
const binLabel = (b: CalibrationBin): string => `${b.lower.toFixed(1)}–${b.upper.toFixed(1)}`;
/** An empty bin has no observed rate: a gap in the line, not a point at 0. */
const rate = (b: CalibrationBin): number | undefined => (b.count > 0 ? b.positiveRate : undefined);

function metricsTable(rows: readonly [string, CalibrationSplitMetrics][]): string {
  const head =
    '<tr><th>split</th><th>items</th><th>ECE before</th><th>ECE after</th><th>Brier before</th>' +
    '<th>Brier after</th><th>NLL before</th><th>NLL after</th></tr>';
  const body = rows.map(
    ([name, m]) =>
      `<tr><td>${escapeHtml(name)}</td><td>${m.items}</td><td>${num(m.ece_before)}</td><td>${num(m.ece_after)}</td>` +
      `<td>${num(m.brier_before)}</td><td>${num(m.brier_after)}</td><td>${num(m.nll_before)}</td><td>${num(m.nll_after)}</td></tr>`,
  );
  return `<table>${head}${body.join('')}</table>`;
}

/**
 * The reliability diagram of one split with the shared chart helpers: observed rate of right
 * answers per predicted-probability bin, raw and calibrated, against the diagonal (bin centre);
 * and how the items spread over the bins.
 */
function splitCharts(name: string, s: SplitReliability): string {
  const total = Math.max(1, s.metrics.items);
  const reliability = lineChartSvg({
    title: `Reliability (${name}): observed rate of right answers per predicted P(Yes) bin`,
    xLabels: s.before.map(binLabel),
    series: [
      { name: 'perfect calibration (bin centre)', points: s.before.map((b) => (b.lower + b.upper) / 2) },
      { name: 'raw σ(z_yes − z_no)', points: s.before.map(rate) },
      { name: 'calibrated', points: s.after.map(rate) },
    ],
  });
  const spread = barChartSvg({
    title: `Share of ${name} items per predicted P(Yes) bin`,
    series: ['raw', 'calibrated'],
    groups: s.before.map((b, i) => ({
      label: binLabel(b),
      values: [b.count / total, (s.after[i]?.count ?? 0) / total],
    })),
  });
  return `<figure>${reliability}</figure><figure>${spread}</figure>`;
}

/** The HTML page written next to calibration.json. */
export function renderCalibrationReport(input: CalibrationReportInput): string {
  const d = input.document;
  const title = `Judge calibration: ${d.judge.model_id}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${escapeHtml(input.calibrationFile)} · template ${escapeHtml(d.judge.template_name)} · ` +
      `pool ${escapeHtml(d.pool.file)} (sha256 ${escapeHtml(d.pool.sha256.slice(0, 12))}…, ${d.pool.items} items, ` +
      `${d.pool.positives} right) · seed ${d.pool.seed}</p>`,
    `<p>calibrated P(Yes) = σ((z_yes − z_no − bias) / T) with <b>T = ${num(d.temperature)}</b>, ` +
      `<b>bias = ${num(d.bias)}</b>, fitted by minimum NLL on the fit split (${d.pool.fit_items} items); ` +
      `ECE with ${d.bins} equal-width bins.</p>`,
    metricsTable([
      ['held out', d.metrics.held_out],
      ['fit', d.metrics.fit],
    ]),
    '<h2>Held-out split</h2>',
    splitCharts('held out', input.heldOut),
    '<h2>Fit split</h2>',
    splitCharts('fit', input.fit),
    '</body></html>',
    '',
  ].join('\n');
}
