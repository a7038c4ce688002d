import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadLlamaModel } from '@verdict/models';
import { type ChainLabelMetrics, chainLabelMetrics, chainLabelSamples } from './chain-labels.js';
import { type JudgeCheckMetrics, measureJudgeChecks } from './judge-checks.js';
import { probeJudgeOnSynthetic, type SyntheticJudgeMetrics } from './judge-probe.js';
import { judgeStudentSamples, sampleJudgeEvalSet } from './student-samples.js';
import type { ToyRecipeConfig } from './toy-recipe-config.js';
import type { TrainSummary } from './train-examples.js';

export const TOY_MANIFEST_FORMAT = 'verdict.toy-world.v1';

export interface ToyWorldMetrics {
  readonly student: {
    /** Greedy strict accuracy on the first N problems of the `toy-id` / `toy-ood` suites. */
    readonly accuracyId: number;
    readonly accuracyOod: number;
    readonly evalProblems: number;
    /** Share of correct samples among those the judge was trained on (temperature sampling). */
    readonly sampleAccuracyTrain: number;
  };
  readonly judge: {
    /** On fresh student samples (problems never trained on), labels from the answer checker. */
    readonly accuracy: number;
    readonly auroc: number;
    readonly samples: number;
    readonly positiveRate: number;
    readonly meanScoreCorrect: number;
    readonly meanScoreWrong: number;
    /**
     * On held-out synthetic verifier data: whether the judge checks solutions at all. Absent only
     * while reading a cache written before the probe existed (the read measures and adds it).
     */
    readonly synthetic?: SyntheticJudgeMetrics;
    /**
     * The same student samples graded by their chain instead of their answer: how many right
     * answers come from a wrong chain, and the AUROC a perfect chain checker would get. Absent
     * only while reading a cache written before it existed (the read measures and adds it).
     */
    readonly chains?: ChainLabelMetrics;
    /**
     * Per-claim AUROC, the planted-slip probe and the judge as a solver (DESIGN.md §6). Absent only
     * while reading a cache written before they existed (the read measures and adds them).
     */
    readonly checks?: JudgeCheckMetrics;
  };
}

export interface ToyWorldManifest {
  readonly format: typeof TOY_MANIFEST_FORMAT;
  readonly recipeVersion: number;
  readonly hash: string;
  readonly createdAt: string;
  readonly config: ToyRecipeConfig;
  readonly templates: { readonly student: string; readonly judge: string };
  readonly models: {
    readonly student: { readonly dir: string; readonly params: number };
    readonly judge: { readonly dir: string; readonly params: number };
    readonly tokenizer: { readonly dir: string };
  };
  readonly data: Record<string, number>;
  readonly training: { readonly student: TrainSummary; readonly judge: TrainSummary };
  readonly metrics: ToyWorldMetrics;
  /** Seconds per phase, and `total`. */
  readonly timings: Record<string, number>;
}

/**
 * A manifest with every judge metric present: what a fresh run writes and what
 * addMissingJudgeMetrics returns for an older cache, so readers of a prepared world need no fallbacks.
 */
export type CompleteToyWorldManifest = ToyWorldManifest & {
  readonly metrics: {
    readonly judge: {
      readonly synthetic: SyntheticJudgeMetrics;
      readonly chains: ChainLabelMetrics;
      readonly checks: JudgeCheckMetrics;
    };
  };
};

export const MANIFEST = 'manifest.json';

export function readManifest(dir: string): ToyWorldManifest | undefined {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as ToyWorldManifest;
    if (m.format !== TOY_MANIFEST_FORMAT) return undefined;
    reviveUndefinedMetrics(m.metrics);
    const complete = ['student', 'judge'].every((d) => existsSync(join(dir, d, 'model.safetensors')));
    return complete ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * JSON writes NaN (an AUROC with one class only, e.g. a quick world whose student solves nothing)
 * as null; turn it back, so a cached manifest reads exactly like a fresh one.
 */
function reviveUndefinedMetrics(metrics: object): void {
  const group = metrics as Record<string, unknown>;
  for (const [key, value] of Object.entries(group)) {
    if (value === null) group[key] = Number.NaN;
    else if (typeof value === 'object') reviveUndefinedMetrics(value);
  }
}

/** Writes the manifest beside a temporary name and renames it: a reader never sees half a file. */
export function writeManifest(dir: string, manifest: ToyWorldManifest): void {
  const tmp = join(dir, `${MANIFEST}.tmp-${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, join(dir, MANIFEST));
}

/**
 * A cache written before the synthetic probe, the chain-label metrics or the judge checks existed:
 * measure the cached models (seconds for the probes; re-drawing the judge's evaluation samples for
 * the chains and the per-claim AUROC, the same seeded draw a fresh run makes) and add the numbers,
 * rather than retrain unchanged models.
 */
export async function addMissingJudgeMetrics(
  dir: string,
  manifest: ToyWorldManifest,
  threads: number,
  say: (line: string) => void,
): Promise<CompleteToyWorldManifest> {
  let { synthetic, chains, checks } = manifest.metrics.judge;
  const complete = (
    s: SyntheticJudgeMetrics,
    c: ChainLabelMetrics,
    k: JudgeCheckMetrics,
  ): CompleteToyWorldManifest => ({
    ...manifest,
    metrics: {
      ...manifest.metrics,
      judge: { ...manifest.metrics.judge, synthetic: s, chains: c, checks: k },
    },
  });
  if (synthetic !== undefined && chains !== undefined && checks !== undefined) {
    return complete(synthetic, chains, checks);
  }
  const judgeModel = loadLlamaModel(join(dir, manifest.models.judge.dir), { intraOpThreads: threads });
  try {
    if (synthetic === undefined) {
      synthetic = await probeJudgeOnSynthetic(judgeModel, manifest.config.seed);
      say(
        `toy: judge on held-out synthetic data (added to the cached manifest): AUROC ${synthetic.auroc.toFixed(3)}`,
      );
    }
    if (chains === undefined || checks === undefined) {
      const student = loadLlamaModel(join(dir, manifest.models.student.dir), { intraOpThreads: threads });
      const samples = await sampleJudgeEvalSet(student, manifest.config, say).finally(() => student.close());
      if (chains === undefined) {
        chains = chainLabelMetrics(
          chainLabelSamples(samples),
          await judgeStudentSamples(judgeModel, samples),
        );
        say(
          `toy: judge against chain correctness (added to the cached manifest): AUROC ` +
            `${chains.judgeAurocOnChains.toFixed(3)}; a perfect chain checker: ${chains.chainCheckerAuroc.toFixed(3)}`,
        );
      }
      if (checks === undefined) {
        checks = await measureJudgeChecks(judgeModel, samples, judgeCheckOptions(manifest.config));
        say(`toy: judge checks (added to the cached manifest): ${describeJudgeChecks(checks)}`);
      }
    }
  } finally {
    await judgeModel.close();
  }
  const upgraded = complete(synthetic, chains, checks);
  writeManifest(dir, upgraded);
  return upgraded;
}

/** The judge checks' settings from a recipe: one definition for fresh runs and upgraded caches. */
export function judgeCheckOptions(config: ToyRecipeConfig) {
  return {
    seed: config.seed,
    solverProblems: config.eval.studentProblems,
    maxNewTokens: config.sampling.maxNewTokens,
  };
}

export function describeJudgeChecks(c: JudgeCheckMetrics): string {
  return (
    `per-claim AUROC ${c.claims.auroc.toFixed(3)} (${c.claims.items} steps), ` +
    `${c.slipProbe.samples} planted slips mean P(Yes) ${c.slipProbe.meanPYes.toFixed(3)}, ` +
    `as a solver ${(100 * c.solver.greedyInDomain).toFixed(1)}% greedy in-domain`
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes `<hash>.tmp-<pid>` folders of runs that died midway (their process is gone). */
export function removeAbandonedWork(dir: string): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  const prefix = `${basename(dir)}.tmp-`;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      rmSync(join(parent, name), { recursive: true, force: true });
    }
  }
}
