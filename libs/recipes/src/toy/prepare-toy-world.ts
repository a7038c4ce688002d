import { cpSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { JUDGE_TEMPLATE, PLAIN_TEMPLATE } from '@verdict/data';
import { createLlamaModel, type LlamaModel, loadLlamaModel, loadModelTokenizer } from '@verdict/models';
import { saveTrainingCheckpoint } from '@verdict/rl';
import type { SolverTemplate } from './judge-recipe-config.js';
import { measureToyJudge } from './judge-report.js';
import { prepareToyStudent } from './prepare-toy-student.js';
import { formatSeconds } from './progress.js';
import {
  SHIPPED_TOY_JUDGE_DIR,
  type ShippedJudgeManifest,
  sha256File,
  verifyShippedJudge,
} from './shipped-judge.js';
import { sampleJudgeEvalSet } from './student-samples.js';
import { countParams, toyLlamaConfig } from './toy-model.js';
import {
  type ShippedToyJudgeRef,
  TOY_RECIPE_VERSION,
  type ToyBudget,
  type ToyRecipeConfig,
  toyRecipeConfig,
  toyRecipeHash,
} from './toy-recipe-config.js';
import {
  describeJudgeChecks,
  readManifest,
  removeAbandonedWork,
  TOY_MANIFEST_FORMAT,
  type ToyWorldManifest,
  writeManifest,
} from './toy-world-manifest.js';
import type { TrainSummary } from './train-examples.js';
import { trainWorldJudge } from './train-world-judge.js';

export interface ToyWorld {
  /** The recipe's cache folder (`<cacheDir>/toy/<hash>`). */
  readonly dir: string;
  readonly studentDir: string;
  readonly judgeDir: string;
  readonly tokenizerDir: string;
  readonly manifest: ToyWorldManifest;
  /** True when an earlier run's result was reused. */
  readonly cached: boolean;
}

export interface PrepareToyWorldOptions {
  readonly cacheDir: string;
  readonly seed?: number;
  readonly budget?: ToyBudget;
  /** Retrain even when the cache holds this recipe (the student too). */
  readonly force?: boolean;
  /** ORT intra-op threads per session (default 1). Not part of the cache key. */
  readonly threads?: number;
  /** Overrides the preset (tests, experiments); the hash covers the final config. */
  readonly config?: ToyRecipeConfig;
  /** Where the committed judge is read from (default: the one in this package). */
  readonly shippedJudgeDir?: string;
  readonly onProgress?: (line: string) => void;
}

/** The committed judge, checked against the recipe and the student it was trained for. */
function shippedJudge(
  dir: string,
  ref: ShippedToyJudgeRef,
  student: { readonly hash: string; readonly sha256: string },
): ShippedJudgeManifest {
  const m = verifyShippedJudge(dir);
  if (m.recipeHash !== ref.recipeHash || m.sha256 !== ref.sha256) {
    throw new Error(
      `toy world: the recipe names judge ${ref.recipeHash} (${ref.sha256.slice(0, 12)}…), ${dir} holds ${m.recipeHash} (${m.sha256.slice(0, 12)}…)`,
    );
  }
  // The recipe hash names how the student was made; the sha256 names the file. Both must match: the
  // same recipe has produced different files under different builds (libs/recipes README).
  if (m.student.hash !== student.hash || m.student.sha256 !== student.sha256) {
    throw new Error(
      `toy world: the judge in ${dir} was trained for student ${m.student.hash} (${m.student.sha256.slice(0, 12)}…), this world's is ${student.hash} (${student.sha256.slice(0, 12)}…)`,
    );
  }
  return m;
}

/**
 * Prepares (or reuses) the toy world: the toy tokenizer, a weak student (small Llama, SFT on a
 * small labeled set; cached on its own by `prepareToyStudent`) and its judge — the committed one
 * (`verdict toy train-judge`, sha256 checked) for the full recipe, or a small one trained here for
 * the quick one — measured on the student's fresh samples. HF model folders under
 * `<cacheDir>/toy/<hash of the recipe config>/`, with `manifest.json` holding metrics, seeds,
 * template versions and timings. The folder is built under a temporary name and renamed, so a
 * crash never leaves a half-written recipe that a later run would reuse.
 */
export async function prepareToyWorld(options: PrepareToyWorldOptions): Promise<ToyWorld> {
  const say = options.onProgress ?? (() => {});
  const threads = options.threads ?? 1;
  const config = options.config ?? toyRecipeConfig(options.budget ?? 'full', options.seed ?? 0, threads);
  const hash = toyRecipeHash(config);
  const dir = join(options.cacheDir, 'toy', hash);
  const paths = (root: string) => ({
    studentDir: join(root, 'student'),
    judgeDir: join(root, 'judge'),
    tokenizerDir: join(root, 'tokenizer'),
  });
  const shippedDir = options.shippedJudgeDir ?? SHIPPED_TOY_JUDGE_DIR;

  const existing = options.force ? undefined : readManifest(dir);
  if (existing) {
    say(`toy: reusing cached recipe ${hash} at ${dir} (use --force to retrain)`);
    if (config.judge.source === 'shipped') {
      // The copy in the cache is what the judge-server loads: check it as the shipped one is checked.
      const actual = sha256File(join(dir, 'judge', 'model.safetensors'));
      if (actual !== config.judge.sha256) {
        throw new Error(
          `toy world: ${join(dir, 'judge')} has sha256 ${actual}, the recipe names ${config.judge.sha256}`,
        );
      }
    }
    return { dir, ...paths(dir), manifest: existing, cached: true };
  }

  removeAbandonedWork(dir);
  const t0 = performance.now();
  const student = await prepareToyStudent({
    cacheDir: options.cacheDir,
    recipe: config,
    force: options.force ?? false,
    onProgress: say,
  });
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const p = paths(work);
  cpSync(student.studentDir, p.studentDir, { recursive: true });
  cpSync(student.tokenizerDir, p.tokenizerDir, { recursive: true });
  const timings: Record<string, number> = { ...student.manifest.timings };
  let mark = performance.now();
  const lap = (name: string): void => {
    timings[name] = (performance.now() - mark) / 1000;
    mark = performance.now();
    say(`toy: ${name} done in ${formatSeconds(timings[name]!)}`);
  };

  const tokenizer = loadModelTokenizer(p.tokenizerDir);
  const studentModel = loadLlamaModel(p.studentDir, { intraOpThreads: threads });
  let judgeModel: LlamaModel | undefined;
  let solverTemplate: SolverTemplate = 'judge';
  let judgeSource: {
    params: number;
    training: TrainSummary;
    data: Record<string, number>;
    sampleAccuracyTrain?: number;
  };
  try {
    if (config.judge.source === 'trained') {
      const trained = await trainWorldJudge({
        config,
        judge: config.judge,
        tokenizer,
        student: studentModel,
        onProgress: say,
      });
      const judgeConfig = toyLlamaConfig(config.judge.dims);
      saveTrainingCheckpoint(
        p.judgeDir,
        { config: judgeConfig, params: trained.params, extra: { recipe: 'toy' } },
        {
          tokenizerFrom: p.tokenizerDir,
        },
      );
      judgeModel = createLlamaModel(judgeConfig, trained.params, tokenizer, { intraOpThreads: threads });
      judgeSource = {
        params: countParams(judgeConfig),
        training: trained.summary,
        data: trained.data,
        sampleAccuracyTrain: trained.sampleAccuracyTrain,
      };
      lap('judge_training');
    } else {
      const shipped = shippedJudge(shippedDir, config.judge, student.manifest);
      cpSync(shippedDir, p.judgeDir, { recursive: true });
      judgeModel = loadLlamaModel(p.judgeDir, { intraOpThreads: threads });
      judgeSource = { params: shipped.params, training: shipped.training, data: {} };
      // A committed judge is measured as a solver in the prompt it learned to solve in.
      solverTemplate = shipped.config.solverTemplate ?? 'judge';
      say(`toy: judge ${shipped.recipeHash} (${shipped.params} params, committed; sha256 checked)`);
    }
    const evalSamples = await sampleJudgeEvalSet(studentModel, config, say);
    lap('student_sampling');
    const measured = await measureToyJudge(judgeModel, evalSamples, {
      seed: config.seed,
      solverProblems: config.eval.studentProblems,
      maxNewTokens: config.sampling.maxNewTokens,
      solverTemplate,
    });
    const judgeMetrics = {
      ...measured.answer,
      synthetic: measured.synthetic,
      chains: measured.chains,
      checks: measured.checks,
    };
    say(
      `toy: judge on ${measured.answer.samples} fresh student samples: accuracy ${(100 * judgeMetrics.accuracy).toFixed(1)}%, ` +
        `AUROC ${judgeMetrics.auroc.toFixed(3)}; on ${measured.synthetic.samples} held-out synthetic examples: ` +
        `AUROC ${measured.synthetic.auroc.toFixed(3)}; against chain correctness AUROC ` +
        `${measured.chains.judgeAurocOnChains.toFixed(3)} (a perfect chain checker: ` +
        `${measured.chains.chainCheckerAuroc.toFixed(3)})`,
    );
    say(`toy: judge checks: ${describeJudgeChecks(measured.checks)}`);
    lap('judge_eval');
    timings['total'] = (performance.now() - t0) / 1000;

    const manifest: ToyWorldManifest = {
      format: TOY_MANIFEST_FORMAT,
      recipeVersion: TOY_RECIPE_VERSION,
      hash,
      createdAt: new Date().toISOString(),
      config,
      templates: { student: PLAIN_TEMPLATE.version, judge: JUDGE_TEMPLATE.version },
      models: {
        student: {
          dir: 'student',
          params: student.manifest.params,
          hash: student.manifest.hash,
          sha256: student.manifest.sha256,
        },
        judge: { dir: 'judge', params: judgeSource.params, source: config.judge.source },
        tokenizer: { dir: 'tokenizer' },
      },
      data: {
        studentTrainProblems: student.manifest.trainProblems,
        ...judgeSource.data,
        judgeEvalSamples: evalSamples.length,
      },
      training: { student: student.manifest.training, judge: judgeSource.training },
      metrics: {
        student: {
          accuracyId: student.manifest.accuracyId,
          accuracyOod: student.manifest.accuracyOod,
          evalProblems: student.manifest.evalProblems,
          ...(judgeSource.sampleAccuracyTrain === undefined
            ? {}
            : { sampleAccuracyTrain: judgeSource.sampleAccuracyTrain }),
        },
        judge: judgeMetrics,
      },
      timings,
    };
    writeManifest(work, manifest);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    return { dir, ...paths(dir), manifest, cached: false };
  } finally {
    await Promise.all([studentModel.close(), judgeModel?.close()]);
  }
}
