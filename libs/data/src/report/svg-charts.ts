/** Escapes text for HTML/SVG text and attribute values (the report shows model and suite names verbatim). */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** One bar group: a label and one value in [0, 1] per series (undefined = no bar). */
export interface BarGroup {
  readonly label: string;
  readonly values: readonly (number | undefined)[];
}

export interface BarChartOptions {
  readonly title: string;
  /** Series names, one colour each (legend shown when there are two or more). */
  readonly series: readonly string[];
  readonly groups: readonly BarGroup[];
}

/** A line: a name and one point per run index (undefined = the run did not have this series). */
export interface LineSeries {
  readonly name: string;
  readonly points: readonly (number | undefined)[];
}

export interface LineChartOptions {
  readonly title: string;
  /** X-axis labels, one per run (shown thinned out when there are many). */
  readonly xLabels: readonly string[];
  readonly series: readonly LineSeries[];
}

const PALETTE = ['#3366cc', '#dc7633', '#28a745', '#8e44ad', '#c0392b', '#17a2b8', '#7f8c8d', '#b7950b'];
const FONT = 'font-family="system-ui, sans-serif"';

export function seriesColour(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

/** Horizontal grid lines and y-axis labels at 0, 25, 50, 75, 100 %. */
function yGrid(left: number, top: number, width: number, height: number): string {
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = top + height - (height * i) / 4;
    parts.push(
      `<line x1="${left}" y1="${fmt(y)}" x2="${left + width}" y2="${fmt(y)}" stroke="#ddd" stroke-width="1"/>`,
      `<text x="${left - 6}" y="${fmt(y + 4)}" text-anchor="end" font-size="11" ${FONT} fill="#555">${i * 25}%</text>`,
    );
  }
  return parts.join('');
}

/** Legend rows under the title (wrapping at `width`); returns the markup and the height used. */
function legend(names: readonly string[], width: number): { svg: string; height: number } {
  if (names.length < 2) return { svg: '', height: 0 };
  const parts: string[] = [];
  let x = 8;
  let y = 38;
  names.forEach((name, i) => {
    const w = 24 + name.length * 6.5;
    if (x > 8 && x + w > width) {
      x = 8;
      y += 16;
    }
    parts.push(
      `<rect x="${fmt(x)}" y="${y - 9}" width="10" height="10" fill="${seriesColour(i)}"/>`,
      `<text x="${fmt(x + 14)}" y="${y}" font-size="11" ${FONT}>${escapeHtml(name)}</text>`,
    );
    x += w;
  });
  return { svg: parts.join(''), height: y - 38 + 20 };
}

/** Long axis labels are cut (the full text stays in the bar/point tooltip and the tables). */
function shortLabel(label: string, max = 22): string {
  return label.length <= max ? label : `${label.slice(0, max - 1)}…`;
}

function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">` +
    `<title>${escapeHtml(title)}</title>` +
    `<text x="8" y="18" font-size="14" font-weight="600" ${FONT}>${escapeHtml(title)}</text>`
  );
}

/** A grouped vertical bar chart of values in [0, 1], labelled with percentages. */
export function barChartSvg(options: BarChartOptions): string {
  const nSeries = Math.max(1, options.series.length);
  const barWidth = nSeries === 1 ? 36 : 22;
  const groupWidth = nSeries * barWidth + 24;
  const left = 56;
  const plotHeight = 180;
  // Wide enough for the title too (bold 14px ≈ 8 px per character).
  const plotWidth = Math.max(240, options.groups.length * groupWidth, options.title.length * 8 - 40);
  const labelsHeight = 100;
  const width = left + plotWidth + 16;
  const key = legend(options.series, width);
  const top = 40 + key.height;
  const height = top + plotHeight + labelsHeight;
  const parts = [svgOpen(width, height, options.title), key.svg, yGrid(left, top, plotWidth, plotHeight)];
  if (options.groups.length === 0) {
    parts.push(
      `<text x="${left + plotWidth / 2}" y="${top + plotHeight / 2}" text-anchor="middle" font-size="12" ${FONT} fill="#777">no data</text>`,
    );
  }
  options.groups.forEach((group, g) => {
    const gx = left + g * groupWidth + 12;
    group.values.forEach((value, s) => {
      if (value === undefined) return;
      const v = clamp01(value);
      const h = v * plotHeight;
      const x = gx + s * barWidth;
      const y = top + plotHeight - h;
      // Grouped bars are narrow: whole percents fit above them, one decimal does not.
      const text = nSeries === 1 ? pct(v) : `${Math.round(v * 100)}`;
      parts.push(
        `<rect x="${fmt(x)}" y="${fmt(y)}" width="${barWidth - 4}" height="${fmt(h)}" fill="${seriesColour(s)}">` +
          `<title>${escapeHtml(`${group.label} · ${options.series[s] ?? ''}: ${pct(value)}`)}</title></rect>`,
        `<text x="${fmt(x + (barWidth - 4) / 2)}" y="${fmt(y - 3)}" text-anchor="middle" font-size="9" ${FONT}>${text}</text>`,
      );
    });
    const lx = gx + (nSeries * barWidth) / 2;
    const ly = top + plotHeight + 14;
    parts.push(
      `<text x="${fmt(lx)}" y="${ly}" text-anchor="end" font-size="11" ${FONT} transform="rotate(-40 ${fmt(lx)} ${ly})">${escapeHtml(shortLabel(group.label))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A line chart of values in [0, 1] over runs (x = run index). */
export function lineChartSvg(options: LineChartOptions): string {
  const runs = options.xLabels.length;
  const left = 56;
  const inset = 16;
  const plotHeight = 180;
  const plotWidth = Math.max(360, Math.min(900, runs * 48), options.title.length * 8 - 40);
  const width = left + plotWidth + 24;
  const key = legend(
    options.series.map((s) => s.name),
    width,
  );
  const top = 40 + key.height;
  const height = top + plotHeight + 100;
  const parts = [svgOpen(width, height, options.title), key.svg, yGrid(left, top, plotWidth, plotHeight)];
  const xOf = (i: number): number =>
    runs <= 1 ? left + plotWidth / 2 : left + inset + ((plotWidth - 2 * inset) * i) / (runs - 1);
  const yOf = (v: number): number => top + plotHeight - clamp01(v) * plotHeight;
  if (runs === 0) {
    parts.push(
      `<text x="${left + plotWidth / 2}" y="${top + plotHeight / 2}" text-anchor="middle" font-size="12" ${FONT} fill="#777">no runs yet</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(runs / 12));
  options.xLabels.forEach((label, i) => {
    if (i % every !== 0 && i !== runs - 1) return;
    const x = xOf(i);
    const y = top + plotHeight + 14;
    parts.push(
      `<text x="${fmt(x)}" y="${y}" text-anchor="end" font-size="10" ${FONT} transform="rotate(-40 ${fmt(x)} ${y})">${escapeHtml(shortLabel(label))}</text>`,
    );
  });
  options.series.forEach((series, s) => {
    const colour = seriesColour(s);
    // A run without this series (another suite or model) is skipped: the line joins the runs that have it.
    let path = '';
    series.points.forEach((v, i) => {
      if (v === undefined) return;
      path += `${path === '' ? 'M' : 'L'}${fmt(xOf(i))} ${fmt(yOf(v))}`;
    });
    if (path !== '') parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    series.points.forEach((v, i) => {
      if (v === undefined) return;
      parts.push(
        `<circle cx="${fmt(xOf(i))}" cy="${fmt(yOf(v))}" r="3" fill="${colour}">` +
          `<title>${escapeHtml(`${series.name} · ${options.xLabels[i] ?? i}: ${pct(v)}`)}</title></circle>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('');
}
