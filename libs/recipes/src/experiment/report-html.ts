import { COMPARISON_METHOD, comparisonTableRows } from './arm-comparisons.js';
import type { CurvePoint, ExperimentResult } from './results.js';
import { describeClaim, resultsTableRows, seenTableRows } from './results.js';

const COLORS = ['#444444', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#d62728', '#8c564b', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { x: number; y: number }[];
  readonly alarmStep: number | null;
}

/** Mean over seeds of one curve field per step (steps where no seed has it are left out). */
function meanCurve(
  curves: readonly (readonly CurvePoint[])[],
  pick: (p: CurvePoint) => number | undefined,
): { x: number; y: number }[] {
  const byStep = new Map<number, number[]>();
  for (const curve of curves) {
    for (const p of curve) {
      const y = pick(p);
      if (y === undefined || !Number.isFinite(y)) continue;
      const list = byStep.get(p.step) ?? [];
      list.push(y);
      byStep.set(p.step, list);
    }
  }
  return [...byStep.entries()]
    .sort(([a], [b]) => a - b)
    .map(([x, ys]) => ({ x, y: ys.reduce((a, b) => a + b, 0) / ys.length }));
}

/** A self-contained SVG line chart (no scripts, no external assets). */
export function lineChartSvg(title: string, series: readonly Series[], yLabel = '', xLabel = 'step'): string {
  const W = 460;
  const H = 260;
  const m = { l: 48, r: 12, t: 28, b: 34 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img"><text x="10" y="20">${esc(title)}: no data</text></svg>`;
  }
  const xMin = Math.min(...all.map((p) => p.x));
  const xMax = Math.max(...all.map((p) => p.x), xMin + 1);
  let yMin = Math.min(...all.map((p) => p.y));
  let yMax = Math.max(...all.map((p) => p.y));
  if (yMax - yMin < 1e-9) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const pad = (yMax - yMin) * 0.05;
  yMin -= pad;
  yMax += pad;
  const sx = (x: number) => m.l + ((x - xMin) / (xMax - xMin)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - yMin) / (yMax - yMin)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#999"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#999"/>`,
    `<text x="${W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`,
  ];
  if (yLabel) parts.push(`<text x="4" y="${m.t - 8}" font-size="10">${esc(yLabel)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    parts.push(
      `<text x="${m.l - 4}" y="${sy(y) + 3}" text-anchor="end" font-size="10">${y.toPrecision(3)}</text>`,
      `<line x1="${m.l}" y1="${sy(y)}" x2="${W - m.r}" y2="${sy(y)}" stroke="#eee"/>`,
    );
  }
  for (const x of [xMin, Math.round((xMin + xMax) / 2), xMax]) {
    parts.push(`<text x="${sx(x)}" y="${H - m.b + 13}" text-anchor="middle" font-size="10">${x}</text>`);
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    parts.push(`<path d="${d.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
    for (const p of s.points) {
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2" fill="${s.color}"/>`);
    }
    if (s.alarmStep !== null) {
      const x = sx(s.alarmStep);
      parts.push(
        `<line x1="${x}" y1="${m.t}" x2="${x}" y2="${H - m.b}" stroke="${s.color}" stroke-dasharray="4 3"/>`,
        `<text x="${x + 2}" y="${m.t + 10}" font-size="10" fill="${s.color}">alarm</text>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

const CHARTS: readonly { title: string; pick: (p: CurvePoint) => number | undefined }[] = [
  { title: 'held-out accuracy (shadow slice, greedy)', pick: (p) => p.heldOutAccuracy },
  { title: 'judge–gold agreement (shadow slice)', pick: (p) => p.shadowAgreement },
  { title: "judge AUROC on the policy's own samples (shadow slice)", pick: (p) => p.shadowAuroc },
  { title: 'judge–gold agreement (labeled rollouts, per step)', pick: (p) => p.rolloutAgreement },
  { title: 'judge score on the shadow slice', pick: (p) => p.shadowJudgeMean },
  { title: 'reward: total (rollouts)', pick: (p) => p.rewardTotal },
  { title: 'reward: verifiable (rollouts)', pick: (p) => p.rewardVerifiable },
  { title: 'reward: judge (rollouts)', pick: (p) => p.rewardJudge },
  { title: 'KL to the reference', pick: (p) => p.kl },
  { title: 'response length (tokens)', pick: (p) => p.responseLength },
];

/** The experiment report: the table, the claim check, learning curves and guard events, one HTML file. */
export function renderExperimentReport(result: ExperimentResult): string {
  const k = result.config.eval.samples;
  const htmlTable = (rows: readonly (readonly string[])[]) =>
    [
      '<table>',
      `<tr>${rows[0]!.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`,
      ...rows.slice(1).map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`),
      '</table>',
    ].join('\n');
  const table = htmlTable(resultsTableRows(result.summary, k));
  const pairedRows = comparisonTableRows(result.arms, result.comparisons ?? [], k);
  const paired =
    pairedRows.length === 0
      ? '<p>No paired comparison (the runs carry no per-problem scores, or RLVR and SFT did not run).</p>'
      : `${htmlTable(pairedRows)}
<p>Each cell: arm − baseline in points on the same problems, [lo, hi] its 95 % paired bootstrap interval
(${COMPARISON_METHOD.resamples} resamples), p: exact McNemar mid-p for 0/1 scores (greedy, one seed), paired t otherwise.
${esc(COMPARISON_METHOD.paired)}.</p>`;
  const seenRows = seenTableRows(result.arms, result.seenComparisons ?? []);
  const seen =
    seenRows.length === 0
      ? ''
      : `<h2>Seen in training against fresh</h2>
${htmlTable(seenRows)}
<p>Greedy, RL arm − SFT: on the first ${result.config.seenProblems} problems of each seed's training stream (the RL arms trained on them)
and on the fresh in-domain suite. A gain on seen problems that fresh ones do not share is learning of the training questions, not of the skill.</p>`;
  const rlArms = result.arms.filter((a) => a.algorithm !== 'sft');
  const legend = rlArms
    .map(
      (a, i) =>
        `<span class="key"><span style="background:${COLORS[(i + 1) % COLORS.length]}"></span>${esc(a.label)}</span>`,
    )
    .join(' ');
  const charts = CHARTS.map(({ title, pick }) => {
    const series: Series[] = rlArms.map((arm, i) => {
      const runs = result.runs.filter((r) => r.armId === arm.id);
      const alarms = runs.map((r) => r.alarmStep).filter((s): s is number => s !== null);
      return {
        name: arm.label,
        color: COLORS[(i + 1) % COLORS.length]!,
        points: meanCurve(
          runs.map((r) => r.curve),
          pick,
        ),
        alarmStep: alarms.length > 0 ? Math.min(...alarms) : null,
      };
    });
    return `<figure>${lineChartSvg(title, series)}</figure>`;
  }).join('\n');
  const events = result.runs.flatMap((r) =>
    r.guardEvents.map(
      (e) =>
        `<tr><td>${esc(r.runId)}</td><td>${e.step}</td><td>${esc(e.action)}</td><td>${esc(e.reason)}</td></tr>`,
    ),
  );
  const runsTable = result.runs.map(
    (r) =>
      `<tr><td>${esc(r.runId)}</td><td>${esc(r.status)}</td><td>${r.steps}</td><td>${r.alarmStep ?? '—'}</td><td>${r.seconds.toFixed(0)}</td><td>${esc(r.message ?? '')}</td></tr>`,
  );
  const c = result.config;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Verdict experiment (${esc(c.budget)})</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left}
th{background:#f4f4f4}figure{display:inline-block;margin:4px}pre{background:#f7f7f7;padding:8px;white-space:pre-wrap}
.key{display:inline-flex;align-items:center;margin-right:14px;font-size:13px}.key span{display:inline-block;width:14px;height:4px;margin-right:4px}
</style></head><body>
<h1>Label-free distillation in the toy world (${esc(c.budget)}, seeds ${result.seeds.join(', ')})</h1>
<p>Toy world ${esc(result.toyWorld.hash)} (${esc(result.toyWorld.budget)}): SFT student greedy accuracy
${(100 * result.toyWorld.studentAccuracyId).toFixed(1)}% in-domain; judge AUROC ${result.toyWorld.judgeAuroc.toFixed(3)}${
    result.toyWorld.weakJudgeAuroc !== undefined
      ? `; weak judge AUROC ${result.toyWorld.weakJudgeAuroc.toFixed(3)}`
      : ''
  }.
Every RL arm: ${c.steps} steps × ${c.promptsPerStep} questions × ${c.groupSize} samples, LR ${c.learningRate} (${c.warmupSteps} warm-up steps, ${c.lrDecay} decay), KL ${c.klCoef}${c.dynamicSampling ? ', dynamic sampling (GRPO)' : ''};
labeled pool ${c.labeledProblems}, unlabeled pool ${c.labeledProblems * c.unlabeledMultiple}.
Evaluation: first ${c.eval.problems} problems of toy-id (in-domain) and toy-ood (held-out templates), greedy, and mean@${k} and maj@${k}
from ${k} samples at T = ${c.eval.temperature}. [lo, hi]: 95 % interval (${esc(COMPARISON_METHOD.single)}); ±: spread over seeds.</p>
<h2>Results</h2>
${table}
<h2>Every arm against RLVR and SFT, problem by problem</h2>
${paired}
<pre>${esc(describeClaim(result.claim))}</pre>
${seen}
<h2>Learning curves (mean over seeds)</h2>
<p>${legend}</p>
${charts}
<h2>Reward-hacking guard</h2>
<p>Alarm when the judge's mean score on the shadow slice has risen ≥ ${c.guard.judgeRiseThreshold} from its start while, on that held-out labeled slice (${c.shadow.problems} problems, every ${c.shadow.everySteps} step(s)), the judge–gold agreement has fallen
≥ ${c.guard.agreementDropThreshold} or the greedy accuracy ≥ ${c.guard.heldOutDropThreshold} (or ≥ ${c.guard.heldOutRelativeDropThreshold} of its start level and ≥ ${c.guard.heldOutMinDrop}) (levels: mean of the first
${c.guard.baselinePoints} and of the latest ${c.guard.recentPoints} observations), ${c.guard.consecutive} observation(s) in a row;
action: ${esc(c.guard.action)}.</p>
${events.length > 0 ? `<table><tr><th>run</th><th>step</th><th>action</th><th>reason</th></tr>${events.join('')}</table>` : '<p>No alarm.</p>'}
<h2>Runs</h2>
<table><tr><th>run</th><th>status</th><th>steps</th><th>alarm step</th><th>seconds</th><th>message</th></tr>${runsTable.join('')}</table>
</body></html>
`;
}
