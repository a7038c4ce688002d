import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineCommand } from '../framework/command.js';

/** `VERDICT_CACHE_DIR`, else `~/.cache/verdict` (the CLI reads the environment; libs take options). */
export function defaultCacheDir(): string {
  const env = process.env['VERDICT_CACHE_DIR'];
  return env !== undefined && env !== '' ? env : join(homedir(), '.cache', 'verdict');
}

interface ToyPrepareResult {
  cached: boolean;
  hash: string;
  budget: string;
  seed: number;
  /** DESIGN.md §6 names first (greedy_*), the earlier names beside them. */
  student: {
    params: number;
    greedy_in_domain: number;
    greedy_held_out: number;
    accuracy_id: number;
    accuracy_ood: number;
    eval_problems: number;
  };
  judge: {
    /** `shipped`: the committed judge (`verdict toy train-judge`); `trained`: trained with this (quick) world. */
    source: 'shipped' | 'trained';
    /** DESIGN.md §6: the judge as a solver, its AUROC against answers, chains and single steps, slips, file hash. */
    solver_greedy_in_domain: number;
    auroc_answer: number;
    auroc_chain: number;
    auroc_claim: number;
    slip_probe_mean_p_yes: number;
    slip_probe_samples: number;
    sha256: string;
    accuracy: number;
    auroc: number;
    samples: number;
    positive_rate: number;
    params: number;
    /** The judge on held-out synthetic verifier data (its training distribution, balanced). */
    synthetic: { auroc: number; samples: number; mean_score: Record<string, number> };
    /**
     * The same student samples graded by their chain (is it the gold solution?) instead of their
     * answer: right answers from wrong chains, and what a perfect chain checker would score.
     */
    chains: {
      chain_correct: number;
      correct_with_wrong_chain: number;
      chain_checker_auroc: number;
      judge_auroc_on_chains: number;
    };
  };
  /** DESIGN.md §6: share of the student's evaluation samples graded correct, of those the share from a wrong chain, and a perfect chain checker's AUROC against the answer labels. */
  student_samples_correct: number;
  lucky_share_of_correct: number;
  chain_label_ceiling: number;
  paths: { dir: string; student: string; judge: string; tokenizer: string; manifest: string };
  seconds: number;
  timings: Record<string, number>;
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export default defineCommand({
  name: 'toy prepare',
  summary: 'train (or reuse) the toy student, take its judge, and report their accuracy and AUROC',
  flags: {
    cacheDir: {
      type: 'string',
      description:
        'cache root (default $VERDICT_CACHE_DIR or ~/.cache/verdict); models go to <it>/toy/<hash>',
    },
    seed: { type: 'int', default: 0, min: 0, description: 'seed of data, initialisation and sampling' },
    quick: { type: 'boolean', description: 'the small recipe the tests use (~15 s, weak numbers)' },
    force: { type: 'boolean', description: 'retrain even when the cache holds this recipe' },
    threads: {
      type: 'int',
      default: 1,
      min: 1,
      description:
        'ORT intra-op threads per session; student and judge train concurrently (not in the cache key)',
    },
  },
  async run(flags, ctx): Promise<ToyPrepareResult> {
    const { prepareToyWorld } = await import('@verdict/recipes');
    const { sha256Hex } = await import('@verdict/runtime');
    const started = performance.now();
    const world = await prepareToyWorld({
      cacheDir: resolve(flags.cacheDir ?? defaultCacheDir()),
      seed: flags.seed,
      budget: flags.quick ? 'quick' : 'full',
      force: flags.force ?? false,
      threads: flags.threads,
      onProgress: (line) => ctx.progress(line),
    });
    const m = world.manifest;
    const { chains, checks } = m.metrics.judge;
    return {
      cached: world.cached,
      hash: m.hash,
      budget: m.config.budget,
      seed: m.config.seed,
      student: {
        params: m.models.student.params,
        greedy_in_domain: m.metrics.student.accuracyId,
        greedy_held_out: m.metrics.student.accuracyOod,
        accuracy_id: m.metrics.student.accuracyId,
        accuracy_ood: m.metrics.student.accuracyOod,
        eval_problems: m.metrics.student.evalProblems,
      },
      judge: {
        source: m.models.judge.source,
        solver_greedy_in_domain: checks.solver.greedyInDomain,
        auroc_answer: m.metrics.judge.auroc,
        auroc_chain: chains.judgeAurocOnChains,
        auroc_claim: checks.claims.auroc,
        slip_probe_mean_p_yes: checks.slipProbe.meanPYes,
        slip_probe_samples: checks.slipProbe.samples,
        sha256: sha256Hex(readFileSync(join(world.judgeDir, 'model.safetensors'))),
        accuracy: m.metrics.judge.accuracy,
        auroc: m.metrics.judge.auroc,
        samples: m.metrics.judge.samples,
        positive_rate: m.metrics.judge.positiveRate,
        params: m.models.judge.params,
        synthetic: {
          auroc: m.metrics.judge.synthetic.auroc,
          samples: m.metrics.judge.synthetic.samples,
          mean_score: { ...m.metrics.judge.synthetic.meanScore },
        },
        chains: {
          chain_correct: m.metrics.judge.chains.chainCorrect,
          correct_with_wrong_chain: m.metrics.judge.chains.correctWithWrongChain,
          chain_checker_auroc: m.metrics.judge.chains.chainCheckerAuroc,
          judge_auroc_on_chains: m.metrics.judge.chains.judgeAurocOnChains,
        },
      },
      student_samples_correct: m.metrics.judge.positiveRate,
      lucky_share_of_correct: chains.correctWithWrongChain,
      chain_label_ceiling: chains.chainCheckerAuroc,
      paths: {
        dir: world.dir,
        student: world.studentDir,
        judge: world.judgeDir,
        tokenizer: world.tokenizerDir,
        manifest: join(world.dir, 'manifest.json'),
      },
      seconds: (performance.now() - started) / 1000,
      timings: m.timings,
    };
  },
  format: (r) => {
    const s = r as ToyPrepareResult;
    const rows = [
      ['model', 'params', 'metric', 'value'],
      ['student', String(s.student.params), 'greedy accuracy, in-domain', pct(s.student.accuracy_id)],
      ['student', '', 'greedy accuracy, held-out templates', pct(s.student.accuracy_ood)],
      [
        `judge (${s.judge.source})`,
        String(s.judge.params),
        `accuracy on ${s.judge.samples} student samples`,
        pct(s.judge.accuracy),
      ],
      ['judge', '', 'AUROC on student samples', s.judge.auroc.toFixed(3)],
      ['', '', 'student samples correct (gold)', pct(s.judge.positive_rate)],
      ['', '', '  of those, right answer from a wrong chain', pct(s.judge.chains.correct_with_wrong_chain)],
      ['', '', 'AUROC of a perfect chain checker', s.judge.chains.chain_checker_auroc.toFixed(3)],
      ['judge', '', 'AUROC against chain correctness', s.judge.chains.judge_auroc_on_chains.toFixed(3)],
      ['judge', '', 'AUROC per step (does this step hold?)', s.judge.auroc_claim.toFixed(3)],
      [
        'judge',
        '',
        `mean P(Yes) on ${s.judge.slip_probe_samples} planted one-step slips`,
        s.judge.slip_probe_mean_p_yes.toFixed(3),
      ],
      ['judge', '', 'as a solver: greedy accuracy, in-domain', pct(s.judge.solver_greedy_in_domain)],
      [
        'judge',
        '',
        `AUROC on ${s.judge.synthetic.samples} held-out synthetic examples`,
        s.judge.synthetic.auroc.toFixed(3),
      ],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
    const table = rows.map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
    const source = s.cached
      ? `cached (recipe ${s.hash}, built in ${s.timings['total']?.toFixed(0)} s)`
      : `trained in ${s.seconds.toFixed(0)} s`;
    const perKind = Object.entries(s.judge.synthetic.mean_score)
      .map(([kind, score]) => `${kind} ${score.toFixed(2)}`)
      .join(', ');
    return [
      `toy world (${s.budget}, seed ${s.seed}): ${source}`,
      ...table,
      `judge mean P(Yes) on held-out synthetic examples: ${perKind}`,
      `student: ${s.paths.student}`,
      `judge:   ${s.paths.judge}`,
    ].join('\n');
  },
});
