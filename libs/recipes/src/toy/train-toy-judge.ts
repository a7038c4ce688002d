import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToyProblems } from '@verdict/data';
import {
  createLlamaModel,
  createRandomLlamaWeights,
  loadLlamaModel,
  loadModelTokenizer,
  toWeightMap,
  writeSafetensors,
} from '@verdict/models';
import { type ParamMap, saveTrainingCheckpoint } from '@verdict/rl';
import { type JudgeRecipeConfig, judgeRecipeConfig, judgeRecipeHash } from './judge-recipe-config.js';
import { measureToyJudge, scoreParity } from './judge-report.js';
import {
  judgeSolverPhase,
  judgeSyntheticItems,
  judgingPhase,
  judgingPhaseCount,
} from './judge-training-data.js';
import { prepareToyStudent, type ToyStudent } from './prepare-toy-student.js';
import { formatSeconds } from './progress.js';
import {
  readJudgeManifest,
  SHIPPED_JUDGE_FORMAT,
  SHIPPED_JUDGE_MANIFEST,
  type ShippedJudgeManifest,
  sha256File,
} from './shipped-judge.js';
import {
  judgeStudentSamples,
  type StudentSample,
  sampleJudgeEvalSet,
  sampleStudent,
} from './student-samples.js';
import { countParams, toyLlamaConfig } from './toy-model.js';
import { type ToyBudget, type ToyStudentRecipe, toyStudentRecipe } from './toy-recipe-config.js';
import { type TrainSummary, trainOnSequences } from './train-examples.js';

export interface TrainToyJudgeOptions {
  readonly cacheDir: string;
  readonly seed?: number;
  /** The student preset the judge learns on and is graded on (default `full`). */
  readonly studentBudget?: ToyBudget;
  /** ORT intra-op threads of the training session (default 2: both cores here). */
  readonly threads?: number;
  /** Start over even when a finished judge or checkpoints exist. */
  readonly force?: boolean;
  /** Overrides the preset (tests); the hash covers the final config. */
  readonly config?: (studentHash: string) => JudgeRecipeConfig;
  readonly onProgress?: (line: string) => void;
}

export interface TrainedToyJudge {
  /** The judge model folder (config, half-precision safetensors, tokenizer, manifest). */
  readonly dir: string;
  readonly manifest: ShippedJudgeManifest;
  readonly cached: boolean;
  readonly student: ToyStudent;
}

const SAMPLES_FILE = 'student-samples.json';

/** The student's T = 1 samples the judge learns from; kept in the work folder so a resume does not redraw them. */
async function trainingSamples(
  student: ToyStudent,
  recipe: ToyStudentRecipe,
  config: JudgeRecipeConfig,
  workDir: string,
  say: (line: string) => void,
): Promise<StudentSample[]> {
  const path = join(workDir, SAMPLES_FILE);
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as StudentSample[];
  const model = loadLlamaModel(student.studentDir, { intraOpThreads: 1 });
  try {
    const samples = await sampleStudent(
      model,
      generateToyProblems(config.studentSampleProblems, {
        seed: `toy-judge:student:${config.seed}`,
        split: 'id',
      }),
      {
        label: 'toy judge: student samples to learn from',
        samplesPerProblem: config.samplesPerProblem,
        temperature: recipe.sampling.temperature,
        maxNewTokens: recipe.sampling.maxNewTokens,
        seed: config.seed + 11,
        onProgress: say,
      },
    );
    writeFileSync(`${path}.tmp`, JSON.stringify(samples));
    renameSync(`${path}.tmp`, path);
    return samples;
  } finally {
    await model.close();
  }
}

/** Writes the judge as a model folder with half-precision weights (what ships). */
function writeJudgeFolder(
  dir: string,
  tokenizerDir: string,
  config: JudgeRecipeConfig,
  params: ParamMap,
): void {
  const modelConfig = toyLlamaConfig(config.dims);
  saveTrainingCheckpoint(dir, { config: modelConfig, params }, { tokenizerFrom: tokenizerDir });
  rmSync(join(dir, 'trainer_state.json'), { force: true });
  writeSafetensors(join(dir, 'model.safetensors'), toWeightMap(modelConfig, params), {}, 'F16');
}

/**
 * `verdict toy train-judge`: the strong toy judge. A 5.2M-parameter Llama (≈ 6× the student) learns
 * to solve on 48,000 fresh problems, then to judge — synthetic slips of every kind, the student's
 * own samples labeled by their chain, and single steps — in two AdamW runs, each checkpointed every
 * `checkpointEverySteps` (a killed run resumes where it was). The result is written in half
 * precision, measured on the student's fresh samples (answer, chain and per-claim AUROC, planted
 * slips, greedy solving, fp16 against fp32 scores), and described by `verdict-judge.json`.
 */
export async function trainToyJudge(options: TrainToyJudgeOptions): Promise<TrainedToyJudge> {
  const say = options.onProgress ?? (() => {});
  const seed = options.seed ?? 0;
  const recipe = toyStudentRecipe(options.studentBudget ?? 'full', seed);
  const student = await prepareToyStudent({ cacheDir: options.cacheDir, recipe, onProgress: say });
  const config = (options.config ?? ((h: string) => judgeRecipeConfig(h, seed)))(student.manifest.hash);
  const hash = judgeRecipeHash(config);
  const workDir = join(options.cacheDir, 'toy-judge', hash);
  const outDir = join(workDir, 'judge');
  if (options.force) rmSync(workDir, { recursive: true, force: true });
  const finished = join(outDir, SHIPPED_JUDGE_MANIFEST);
  if (existsSync(finished)) {
    say(`toy judge: reusing ${outDir} (use --force to retrain)`);
    return { dir: outDir, manifest: readJudgeManifest(finished), cached: true, student };
  }
  mkdirSync(workDir, { recursive: true });
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const threads = options.threads ?? 2;
  const tokenizer = loadModelTokenizer(student.tokenizerDir);
  const modelConfig = toyLlamaConfig(config.dims);
  const solver = judgeSolverPhase(tokenizer, modelConfig, config);
  const synthetic = judgeSyntheticItems(config);
  say(
    `toy judge ${hash}: ${countParams(modelConfig)} params (student ${student.manifest.params}); ` +
      `solves ${solver.length} problems (${config.solverTemplate} prompt), then judges ${judgingPhaseCount(config, synthetic.length)} items`,
  );
  // Drawn while phase 1 trains; phase 2 waits for them.
  const samples = trainingSamples(student, recipe, config, workDir, say);
  const checkpointing = (phase: string) => ({
    dir: join(workDir, 'checkpoints', phase),
    everySteps: config.checkpointEverySteps,
    tokenizerFrom: student.tokenizerDir,
  });
  // Two AdamW runs, each with its own warm-up and cosine: the solver is annealed before it learns to
  // judge (one schedule over both left it at 55 % of the peak LR when judging began).
  const solving = await trainOnSequences({
    label: 'toy judge: solving',
    config: modelConfig,
    params: createRandomLlamaWeights(modelConfig, seed + 101),
    phases: [{ sequences: solver, count: solver.length, epochs: 1 }],
    train: config.solverTrain,
    seed: seed + 101,
    threads,
    onProgress: say,
    checkpointing: checkpointing('solving'),
  });
  timings['solving'] = (performance.now() - t0) / 1000;
  const judging = await trainOnSequences({
    label: 'toy judge: judging',
    config: modelConfig,
    params: solving.params,
    phases: [
      {
        sequences: samples.then((s) => judgingPhase(tokenizer, config, synthetic, s)),
        count: judgingPhaseCount(config, synthetic.length),
        epochs: 1,
      },
    ],
    train: config.train,
    seed: seed + 202,
    threads,
    onProgress: say,
    checkpointing: checkpointing('judging'),
  });
  const phases = { solving: solving.summary, judging: judging.summary };
  const summary: TrainSummary = {
    steps: phases.solving.steps + phases.judging.steps,
    tokens: phases.solving.tokens + phases.judging.tokens,
    firstLoss: phases.solving.firstLoss,
    finalLoss: phases.judging.finalLoss,
    seconds: phases.solving.seconds + phases.judging.seconds,
  };
  const trained = { params: judging.params, summary, phases };
  timings['training'] = (performance.now() - t0) / 1000;
  say(`toy judge: trained in ${formatSeconds(timings['training'])}`);

  const staging = `${outDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  writeJudgeFolder(staging, student.tokenizerDir, config, trained.params);
  const t1 = performance.now();
  const studentModel = loadLlamaModel(student.studentDir, { intraOpThreads: threads });
  const evalSamples = await sampleJudgeEvalSet(studentModel, recipe, say).finally(() => studentModel.close());
  const shipped = loadLlamaModel(staging, { intraOpThreads: threads });
  const full = createLlamaModel(modelConfig, trained.params, tokenizer, { intraOpThreads: threads });
  try {
    const metrics = await measureToyJudge(shipped, evalSamples, {
      seed,
      solverProblems: config.eval.solverProblems,
      maxNewTokens: recipe.sampling.maxNewTokens,
      solverTemplate: config.solverTemplate,
    });
    const parity = scoreParity(
      await judgeStudentSamples(full, evalSamples),
      await judgeStudentSamples(shipped, evalSamples),
    );
    timings['evaluation'] = (performance.now() - t1) / 1000;
    timings['total'] = (performance.now() - t0) / 1000;
    const manifest: ShippedJudgeManifest = {
      format: SHIPPED_JUDGE_FORMAT,
      recipeHash: hash,
      config,
      createdAt: new Date().toISOString(),
      params: countParams(modelConfig),
      dtype: 'F16',
      sha256: sha256File(join(staging, 'model.safetensors')),
      student: {
        hash: student.manifest.hash,
        sha256: student.manifest.sha256,
        params: student.manifest.params,
        greedyInDomain: student.manifest.accuracyId,
      },
      training: trained.summary,
      trainingPhases: trained.phases,
      metrics,
      parity,
      timings,
    };
    writeFileSync(join(staging, SHIPPED_JUDGE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(outDir, { recursive: true, force: true });
    renameSync(staging, outDir);
    return { dir: outDir, manifest, cached: false, student };
  } finally {
    await Promise.all([shipped.close(), full.close()]);
  }
}
