import { join } from 'node:path';
import { defineCommand } from '../framework/command.js';
import type { CalibrateJudgeResult } from '../judge/calibrate.js';
import { readCalibrationPool } from '../judge/calibration-pool.js';

const pct = (v: number): string => v.toFixed(4);

export default defineCommand({
  name: 'judge calibrate',
  summary:
    "fit a temperature and bias on the judge's margin z_yes − z_no over a labeled pool; writes calibration.json and an HTML reliability report",
  flags: {
    model: { type: 'string', required: true, description: 'judge model folder' },
    pool: {
      type: 'string',
      required: true,
      description:
        'JSONL of {"question", "solution" | "answer", "label": true|false|1|0}, one judgment per line',
    },
    out: {
      type: 'string',
      description:
        'calibration file to write (default <model>/calibration.json, which the judge-server loads by itself); the report goes next to it as .html',
    },
    template: {
      type: 'string',
      choices: ['auto', 'plain', 'chat'],
      default: 'auto',
      description: 'judge prompt the margins are read under (the server applies the calibration to it only)',
    },
    heldOut: {
      type: 'number',
      default: 0.3,
      greaterThan: 0,
      max: 0.9,
      description: 'share of each label held out of the fit to measure ECE/Brier before and after',
    },
    minItems: {
      type: 'int',
      default: 20,
      min: 4,
      description: 'smallest pool accepted (fewer items give parameters that mean little)',
    },
    bins: { type: 'int', default: 10, min: 2, max: 100, description: 'equal-width ECE bins' },
    seed: { type: 'int', default: 0, min: 0, description: 'seed of the fit / held-out split' },
    temperatureOnly: { type: 'boolean', description: 'fit the temperature alone (bias 0)' },
  },
  async run(flags, ctx) {
    // The pool is checked before the model loads: a bad pool costs no model load.
    const pool = readCalibrationPool(flags.pool, flags.minItems);
    const { calibrateJudge } = await import('../judge/calibrate.js');
    const r = await calibrateJudge({
      modelDir: flags.model,
      poolPath: flags.pool,
      pool,
      outPath: flags.out ?? join(flags.model, 'calibration.json'),
      template: flags.template as 'auto' | 'plain' | 'chat',
      heldOutFraction: flags.heldOut,
      bins: flags.bins,
      seed: flags.seed,
      fitBias: !flags.temperatureOnly,
      progress: ctx.progress,
    });
    return {
      calibration: r.calibration,
      report: r.report,
      hash: r.hash,
      temperature: r.document.temperature,
      bias: r.document.bias,
      judge: r.document.judge,
      pool: r.document.pool,
      metrics: r.document.metrics,
    };
  },
  format: (out) => {
    const r = out as Pick<CalibrateJudgeResult, 'calibration' | 'report' | 'hash'> & {
      temperature: number;
      bias: number;
      metrics: CalibrateJudgeResult['document']['metrics'];
    };
    const h = r.metrics.held_out;
    return [
      `temperature ${r.temperature.toFixed(4)}, bias ${r.bias.toFixed(4)}`,
      `held out (${h.items} items): ECE ${pct(h.ece_before)} → ${pct(h.ece_after)}, Brier ${pct(h.brier_before)} → ${pct(h.brier_after)}, NLL ${pct(h.nll_before)} → ${pct(h.nll_after)}`,
      `calibration: ${r.calibration} (sha256 ${r.hash})`,
      `report: ${r.report}`,
    ].join('\n');
  },
});
