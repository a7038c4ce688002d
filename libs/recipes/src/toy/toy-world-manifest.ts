import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ChainLabelMetrics } from './chain-labels.js';
import type { JudgeCheckMetrics } from './judge-checks.js';
import type { SyntheticJudgeMetrics } from './judge-probe.js';
import type { ToyRecipeConfig } from './toy-recipe-config.js';
import type { TrainSummary } from './train-examples.js';

export const TOY_MANIFEST_FORMAT = 'verdict.toy-world.v1';

export interface ToyWorldMetrics {
  readonly student: {
    /** Greedy strict accuracy on the first N problems of the `toy-id` / `toy-ood` suites. */
    readonly accuracyId: number;
    readonly accuracyOod: number;
    readonly evalProblems: number;
    /** Share of correct samples among those a world-trained judge learned from (temperature sampling). */
    readonly sampleAccuracyTrain?: number;
  };
  readonly judge: {
    /** On fresh student samples (problems never trained on), labels from the answer checker. */
    readonly accuracy: number;
    readonly auroc: number;
    readonly samples: number;
    readonly positiveRate: number;
    readonly meanScoreCorrect: number;
    readonly meanScoreWrong: number;
    /** On held-out synthetic verifier data: whether the judge checks solutions at all, per error kind. */
    readonly synthetic: SyntheticJudgeMetrics;
    /**
     * The same student samples graded by their chain instead of their answer: how many right
     * answers come from a wrong chain, and the AUROC a perfect chain checker would get.
     */
    readonly chains: ChainLabelMetrics;
    /** Per-claim AUROC, the planted-slip probe and the judge as a solver (DESIGN.md §6). */
    readonly checks: JudgeCheckMetrics;
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
    /** `hash`: toyStudentHash; `sha256`: its weights. */
    readonly student: {
      readonly dir: string;
      readonly params: number;
      readonly hash: string;
      readonly sha256: string;
    };
    /** `shipped`: the committed judge (verified, copied); `trained`: trained with this world. */
    readonly judge: { readonly dir: string; readonly params: number; readonly source: 'trained' | 'shipped' };
    readonly tokenizer: { readonly dir: string };
  };
  readonly data: Record<string, number>;
  readonly training: { readonly student: TrainSummary; readonly judge: TrainSummary };
  readonly metrics: ToyWorldMetrics;
  /** Seconds per phase, and `total`. */
  readonly timings: Record<string, number>;
}

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
export function reviveUndefinedMetrics(metrics: object): void {
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
