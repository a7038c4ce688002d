import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JudgeRecipeConfig } from './judge-recipe-config.js';
import type { ScoreParity, ToyJudgeMetrics } from './judge-report.js';
import type { ShippedToyJudgeRef } from './toy-recipe-config.js';
import { reviveUndefinedMetrics } from './toy-world-manifest.js';
import type { TrainSummary } from './train-examples.js';

export const SHIPPED_JUDGE_FORMAT = 'verdict.toy-judge.v1';
/** The manifest's file name inside the judge's model folder. */
export const SHIPPED_JUDGE_MANIFEST = 'verdict-judge.json';

/** What `verdict toy train-judge` wrote beside the weights: how it was made and what it measures. */
export interface ShippedJudgeManifest {
  readonly format: typeof SHIPPED_JUDGE_FORMAT;
  readonly recipeHash: string;
  readonly config: JudgeRecipeConfig;
  readonly createdAt: string;
  readonly params: number;
  readonly dtype: 'F16' | 'F32';
  /** sha256 of `model.safetensors`: checked on every load. */
  readonly sha256: string;
  /** The student it was trained and graded against. */
  readonly student: {
    /** `toyStudentHash`: the student's recipe. */
    readonly hash: string;
    /** Its weights' sha256 here (training is deterministic for a fixed thread count). */
    readonly sha256: string;
    /** The toy world it was trained beside (the first judge only, before the student had its own cache). */
    readonly worldHash?: string;
    readonly params: number;
    readonly greedyInDomain: number;
  };
  /** Both phases together (steps, tokens and seconds summed; first loss of solving, final of judging)... */
  readonly training: TrainSummary;
  /** ...and each phase's own run (recipe version 2 on). */
  readonly trainingPhases?: { readonly solving: TrainSummary; readonly judging: TrainSummary };
  readonly metrics: ToyJudgeMetrics;
  /** The shipped weights' scores against the full-precision ones on the same samples. */
  readonly parity: ScoreParity;
  readonly timings: Record<string, number>;
}

/** Where a committed judge lives in this package (`libs/recipes/models/toy-judge`; none is committed yet). */
export const SHIPPED_TOY_JUDGE_DIR = fileURLToPath(new URL('../../models/toy-judge', import.meta.url));

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A judge manifest from disk; NaN metrics (written as null by JSON) read back as NaN. */
export function readJudgeManifest(path: string): ShippedJudgeManifest {
  const m = JSON.parse(readFileSync(path, 'utf8')) as ShippedJudgeManifest;
  reviveUndefinedMetrics(m.metrics);
  return m;
}

/** The committed judge as a toy recipe names it (recipe hash and weights' sha256, from its manifest). */
export function shippedToyJudgeRef(dir: string = SHIPPED_TOY_JUDGE_DIR): ShippedToyJudgeRef {
  const path = join(dir, SHIPPED_JUDGE_MANIFEST);
  if (!existsSync(path)) {
    throw new Error(
      `no committed judge: ${path} not found (train one with \`verdict toy train-judge --out ${dir}\`)`,
    );
  }
  const m = JSON.parse(readFileSync(path, 'utf8')) as ShippedJudgeManifest;
  return { source: 'shipped', recipeHash: m.recipeHash, sha256: m.sha256 };
}

/**
 * Reads a shipped judge's manifest and checks its weights' sha256: a judge that is not the one its
 * metrics were measured on (a bad checkout, an edited file, a Git LFS pointer) is refused, naming
 * the file and both hashes, before it grades a single rollout.
 */
export function verifyShippedJudge(dir: string): ShippedJudgeManifest {
  const manifestPath = join(dir, SHIPPED_JUDGE_MANIFEST);
  if (!existsSync(manifestPath)) {
    throw new Error(`shipped judge: ${manifestPath} not found (train one with \`verdict toy train-judge\`)`);
  }
  const manifest = readJudgeManifest(manifestPath);
  if (manifest.format !== SHIPPED_JUDGE_FORMAT) {
    throw new Error(
      `shipped judge: ${manifestPath} has format ${String(manifest.format)}, expected ${SHIPPED_JUDGE_FORMAT}`,
    );
  }
  const weights = join(dir, 'model.safetensors');
  const actual = sha256File(weights);
  if (actual !== manifest.sha256) {
    throw new Error(`shipped judge: ${weights} has sha256 ${actual}, its manifest says ${manifest.sha256}`);
  }
  return manifest;
}

/** One metric of a retrained judge beside the committed one's. */
export interface JudgeComparisonRow {
  readonly metric: string;
  readonly shipped: number;
  readonly now: number;
  readonly tolerance: number;
  readonly within: boolean;
}

export interface JudgeComparison {
  readonly shippedHash: string;
  readonly sameRecipe: boolean;
  readonly rows: readonly JudgeComparisonRow[];
  readonly within: boolean;
}

/**
 * How close a retrained judge must come to the committed one. Training is deterministic for a
 * fixed thread count; another count changes float summation order, and over ~3,000 AdamW steps
 * that moves the weights enough to move accuracies by about a standard error (1.3 points on
 * 1,000 problems) and AUROCs in the third decimal.
 */
export const JUDGE_REPRODUCTION_TOLERANCE = {
  solverGreedyInDomain: 0.04,
  aurocChain: 0.01,
  aurocClaim: 0.01,
  aurocAnswer: 0.015,
  slipProbeMeanPYes: 0.03,
} as const;

function judgeNumbers(m: ShippedJudgeManifest): Record<keyof typeof JUDGE_REPRODUCTION_TOLERANCE, number> {
  return {
    solverGreedyInDomain: m.metrics.checks.solver.greedyInDomain,
    aurocChain: m.metrics.chains.judgeAurocOnChains,
    aurocClaim: m.metrics.checks.claims.auroc,
    aurocAnswer: m.metrics.answer.auroc,
    slipProbeMeanPYes: m.metrics.checks.slipProbe.meanPYes,
  };
}

/** Within `tolerance`; two undefined metrics (NaN: one class only) count as the same. */
function sameWithin(a: number, b: number, tolerance: number): boolean {
  return (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= tolerance;
}

/** A retrained judge's metrics against the committed judge's (null when none is committed). */
export function compareWithShippedJudge(
  now: ShippedJudgeManifest,
  shippedDir: string = SHIPPED_TOY_JUDGE_DIR,
): JudgeComparison | null {
  const path = join(shippedDir, SHIPPED_JUDGE_MANIFEST);
  if (!existsSync(path)) return null;
  const shipped = readJudgeManifest(path);
  const a = judgeNumbers(shipped);
  const b = judgeNumbers(now);
  const rows = (
    Object.keys(JUDGE_REPRODUCTION_TOLERANCE) as (keyof typeof JUDGE_REPRODUCTION_TOLERANCE)[]
  ).map((metric) => {
    const tolerance = JUDGE_REPRODUCTION_TOLERANCE[metric];
    return {
      metric,
      shipped: a[metric],
      now: b[metric],
      tolerance,
      within: sameWithin(a[metric], b[metric], tolerance),
    };
  });
  return {
    shippedHash: shipped.recipeHash,
    sameRecipe: shipped.recipeHash === now.recipeHash,
    rows,
    within: rows.every((r) => r.within),
  };
}
