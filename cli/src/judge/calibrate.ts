import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { createRng } from '@verdict/data';
import type { CalibrationSplitMetrics, JudgeCalibrationDocument, TemperatureFit } from '@verdict/rl';
import { UsageError } from '../framework/usage-error.js';
import type { CalibrationPool } from './calibration-pool.js';
import { renderCalibrationReport, type SplitReliability } from './calibration-report.js';

export interface CalibrateJudgeOptions {
  readonly modelDir: string;
  readonly poolPath: string;
  readonly pool: CalibrationPool;
  /** Where calibration.json goes; the HTML report is written next to it (same name, .html). */
  readonly outPath: string;
  readonly template: 'auto' | 'plain' | 'chat';
  /** Share of each label held out of the fit, for the before/after metrics. */
  readonly heldOutFraction: number;
  readonly bins: number;
  readonly seed: number;
  readonly fitBias: boolean;
  readonly progress: (line: string) => void;
}

export interface CalibrateJudgeResult {
  readonly calibration: string;
  readonly report: string;
  readonly document: JudgeCalibrationDocument;
  /** Hex sha256 of calibration.json as written: what the judge-server puts in provenance. */
  readonly hash: string;
}

/**
 * Held-out indices, stratified by label so both splits keep both labels (at least one of each
 * label on each side; the pool reader guarantees two of each).
 */
export function stratifiedHeldOut(labels: readonly boolean[], fraction: number, seed: number): Set<number> {
  // One seeded generator for both labels: the split is reproducible from --seed.
  const rng = createRng(seed);
  const heldOut = new Set<number>();
  for (const want of [true, false]) {
    const idx = rng.shuffle(labels.flatMap((y, i) => (y === want ? [i] : [])));
    const take = Math.min(idx.length - 1, Math.max(1, Math.round(fraction * idx.length)));
    for (const i of idx.slice(0, take)) heldOut.add(i);
  }
  return heldOut;
}

/**
 * Judges the pool with the model, fits temperature (and bias) on the margins z_yes − z_no of the
 * fit split, measures ECE / Brier / NLL before and after on both splits, and writes
 * calibration.json and its HTML reliability report.
 */
export async function calibrateJudge(o: CalibrateJudgeOptions): Promise<CalibrateJudgeResult> {
  const [models, rl] = await Promise.all([import('@verdict/models'), import('@verdict/rl')]);
  o.progress(`loading ${o.modelDir}`);
  const model = models.loadModel(o.modelDir);
  let margins: number[];
  let template: 'plain' | 'chat';
  let templateHash: string;
  try {
    template = models.resolveJudgeTemplate(model.tokenizer, o.template);
    // Hashed as the judge-server hashes it: the server applies the calibration to this template only.
    templateHash = createHash('sha256')
      .update(models.renderJudgePrompt(model.tokenizer, '{question}', '{solution}', template))
      .digest('hex');
    const chunk = 64;
    margins = [];
    for (let start = 0; start < o.pool.items.length; start += chunk) {
      const part = o.pool.items.slice(start, start + chunk);
      const results = await models.judge(model, part, { template });
      for (const r of results) margins.push(r.zYes - r.zNo);
      o.progress(`judged ${margins.length}/${o.pool.items.length}`);
    }
  } finally {
    await model.close();
  }
  const labels = o.pool.items.map((x) => x.label);
  const heldOut = stratifiedHeldOut(labels, o.heldOutFraction, o.seed);
  const split = (keep: boolean) => {
    const idx = labels.flatMap((_, i) => (heldOut.has(i) === keep ? [i] : []));
    return { margins: idx.map((i) => margins[i]!), labels: idx.map((i) => labels[i]!) };
  };
  const fitSplit = split(false);
  const heldSplit = split(true);
  let fit: TemperatureFit;
  try {
    fit = rl.fitTemperatureScaling(fitSplit.margins, fitSplit.labels, { fitBias: o.fitBias });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UsageError(`--pool ${o.poolPath}: ${error.message.replace(/^fitTemperatureScaling: /, '')}`);
  }
  const measure = (s: { margins: number[]; labels: boolean[] }) => {
    const raw = s.margins.map((m) => rl.sigmoid(m));
    const calibrated = s.margins.map((m) => rl.applyTemperatureScaling(m, fit));
    const eceRaw = rl.expectedCalibrationError(raw, s.labels, o.bins);
    const eceCal = rl.expectedCalibrationError(calibrated, s.labels, o.bins);
    const metrics: CalibrationSplitMetrics = {
      items: s.labels.length,
      ece_before: eceRaw.ece,
      ece_after: eceCal.ece,
      brier_before: rl.brierScore(raw, s.labels),
      brier_after: rl.brierScore(calibrated, s.labels),
      nll_before: rl.meanNll(s.margins, s.labels, { temperature: 1, bias: 0 }),
      nll_after: rl.meanNll(s.margins, s.labels, fit),
    };
    const reliability: SplitReliability = { metrics, before: eceRaw.bins, after: eceCal.bins };
    return reliability;
  };
  const fitReliability = measure(fitSplit);
  const heldReliability = measure(heldSplit);
  const document: JudgeCalibrationDocument = {
    format: rl.JUDGE_CALIBRATION_FORMAT,
    method: 'temperature-bias',
    margin: 'z_yes - z_no',
    temperature: fit.temperature,
    bias: fit.bias,
    judge: { model_id: basename(resolve(o.modelDir)), template_name: template, template_hash: templateHash },
    pool: {
      file: basename(o.poolPath),
      sha256: o.pool.sha256,
      items: o.pool.items.length,
      positives: o.pool.positives,
      fit_items: fitSplit.labels.length,
      held_out_items: heldSplit.labels.length,
      seed: o.seed,
    },
    bins: o.bins,
    metrics: { fit: fitReliability.metrics, held_out: heldReliability.metrics },
  };
  const text = rl.formatJudgeCalibration(document);
  const calibration = resolve(o.outPath);
  const report = calibration.replace(/(\.json)?$/, '.html');
  mkdirSync(dirname(calibration), { recursive: true });
  writeFileSync(calibration, text);
  writeFileSync(
    report,
    renderCalibrationReport({
      document,
      fit: fitReliability,
      heldOut: heldReliability,
      calibrationFile: calibration,
    }),
  );
  return { calibration, report, document, hash: createHash('sha256').update(text).digest('hex') };
}
