import { cpSync, existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineCommand } from '../framework/command.js';
import { defaultCacheDir, pct } from './toy.js';

interface TrainJudgeResult {
  cached: boolean;
  dir: string;
  copiedTo: string | null;
  manifest: import('@verdict/recipes').ShippedJudgeManifest;
  /** Each metric against the committed judge's, when one is committed. */
  againstShipped: import('@verdict/recipes').JudgeComparison | null;
}

export default defineCommand({
  name: 'toy train-judge',
  summary: 'train the strong toy judge (solver, then judge; resumable) and measure it on the student',
  flags: {
    cacheDir: {
      type: 'string',
      description:
        'cache root (default $VERDICT_CACHE_DIR or ~/.cache/verdict); work goes to <it>/toy-judge/<hash>',
    },
    seed: { type: 'int', default: 0, min: 0, description: 'seed of data, initialisation and sampling' },
    threads: { type: 'int', default: 2, min: 1, description: 'ORT intra-op threads of the training session' },
    force: { type: 'boolean', description: 'start over, discarding checkpoints and a finished judge' },
    out: {
      type: 'string',
      description: 'copy the finished judge folder here (e.g. libs/recipes/models/toy-judge)',
    },
  },
  async run(flags, ctx): Promise<TrainJudgeResult> {
    const { trainToyJudge, compareWithShippedJudge } = await import('@verdict/recipes');
    const judge = await trainToyJudge({
      cacheDir: resolve(flags.cacheDir ?? defaultCacheDir()),
      seed: flags.seed,
      threads: flags.threads,
      force: flags.force ?? false,
      onProgress: (line) => ctx.progress(line),
    });
    const againstShipped = compareWithShippedJudge(judge.manifest);
    let copiedTo: string | null = null;
    if (flags.out !== undefined) {
      copiedTo = resolve(flags.out);
      if (existsSync(copiedTo)) rmSync(copiedTo, { recursive: true });
      cpSync(judge.dir, copiedTo, { recursive: true });
    }
    return { cached: judge.cached, dir: judge.dir, copiedTo, manifest: judge.manifest, againstShipped };
  },
  format: (r) => {
    const { manifest: m, againstShipped } = r as TrainJudgeResult;
    const k = m.metrics;
    const lines = [
      `toy judge ${m.recipeHash}: ${m.params} params (${m.dtype}), student ${m.student.params} params at ${pct(m.student.greedyInDomain)} greedy`,
      `  as a solver, greedy in-domain:          ${pct(k.checks.solver.greedyInDomain)} on ${k.checks.solver.problems} (${(k.checks.solver.greedyInDomain / m.student.greedyInDomain).toFixed(1)}× the student; ${k.checks.solver.template ?? 'judge'} prompt)`,
      `  AUROC against chain correctness:        ${k.chains.judgeAurocOnChains.toFixed(3)}`,
      `  AUROC per claim:                        ${k.checks.claims.auroc.toFixed(3)} on ${k.checks.claims.items} steps`,
      `  AUROC against answers:                  ${k.answer.auroc.toFixed(3)} (a perfect chain checker: ${k.chains.chainCheckerAuroc.toFixed(3)})`,
      `  mean P(Yes) on ${k.checks.slipProbe.samples} planted slips:     ${k.checks.slipProbe.meanPYes.toFixed(3)}`,
      `  fp16 vs fp32 P(Yes), max |Δ|:           ${m.parity.maxAbsDiff.toExponential(2)} over ${m.parity.samples}`,
      `  took ${Math.round(m.timings['total'] ?? 0)} s`,
    ];
    if (againstShipped !== null) {
      lines.push(
        `against the committed judge (${againstShipped.shippedHash}): ${againstShipped.within ? 'within' : 'OUTSIDE'} tolerance`,
      );
      for (const row of againstShipped.rows) {
        lines.push(
          `  ${row.metric.padEnd(28)} ${row.shipped.toFixed(3)} → ${row.now.toFixed(3)} (±${row.tolerance}) ${row.within ? 'ok' : 'OUTSIDE'}`,
        );
      }
    }
    lines.push(`judge: ${(r as TrainJudgeResult).copiedTo ?? (r as TrainJudgeResult).dir}`);
    return lines.join('\n');
  },
});
