import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateToyProblems,
  generateVerifierData,
  JUDGE_TEMPLATE,
  PLAIN_TEMPLATE,
  TOY_EVAL_SEED,
  type ToyDifficulty,
  writeToyTokenizer,
} from '@verdict/data';
import {
  createLlamaModel,
  createRandomLlamaWeights,
  type LlamaFamilyConfig,
  loadModelTokenizer,
  type ModelTokenizer,
} from '@verdict/models';
import { auroc, judgeAgreement, type ParamMap, saveTrainingCheckpoint } from '@verdict/rl';
import { chainLabelMetrics, chainLabelSamples } from './chain-labels.js';
import { createHandoff } from './handoff.js';
import { type JudgeCheckMetrics, measureJudgeChecks } from './judge-checks.js';
import type { JudgeTrainItem } from './judge-data.js';
import { judgeSequences, judgeSolverSequences } from './judge-data.js';
import { probeJudgeOnSynthetic, type SyntheticJudgeMetrics } from './judge-probe.js';
import { mean } from './judge-scores.js';
import { formatSeconds } from './progress.js';
import { studentSftSequences } from './student.js';
import {
  judgeStudentSamples,
  type StudentSample,
  sampleJudgeEvalSet,
  sampleStudent,
} from './student-samples.js';
import { countParams, toyLlamaConfig } from './toy-model.js';
import {
  TOY_RECIPE_VERSION,
  type ToyBudget,
  type ToyRecipeConfig,
  toyRecipeConfig,
  toyRecipeHash,
} from './toy-recipe-config.js';
import {
  addMissingJudgeMetrics,
  type CompleteToyWorldManifest,
  describeJudgeChecks,
  judgeCheckOptions,
  readManifest,
  removeAbandonedWork,
  TOY_MANIFEST_FORMAT,
  type ToyWorldManifest,
  writeManifest,
} from './toy-world-manifest.js';
import { shuffle, trainOnSequences } from './train-examples.js';

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

/** A world prepareToyWorld returns: an older cache's manifest has had its missing metrics added. */
export interface PreparedToyWorld extends ToyWorld {
  readonly manifest: CompleteToyWorldManifest;
}

export interface PrepareToyWorldOptions {
  readonly cacheDir: string;
  readonly seed?: number;
  readonly budget?: ToyBudget;
  /** Retrain even when the cache holds this recipe. */
  readonly force?: boolean;
  /** ORT intra-op threads per session (default 1: the student and judge sessions run concurrently). Not part of the cache key. */
  readonly threads?: number;
  /** Overrides the preset (tests, experiments); the hash covers the final config. */
  readonly config?: ToyRecipeConfig;
  readonly onProgress?: (line: string) => void;
}

function saveModel(dir: string, config: LlamaFamilyConfig, params: ParamMap, tokenizerDir: string): void {
  saveTrainingCheckpoint(dir, { config, params, extra: { recipe: 'toy' } }, { tokenizerFrom: tokenizerDir });
}

/** Parts the judge's student samples are drawn and trained on in (see the judge's phase 2). */
const STUDENT_SAMPLE_CHUNKS = 4;

/** `items` in `n` consecutive parts of near-equal size (fewer when there are fewer items). */
function chunksOf<T>(items: readonly T[], n: number): T[][] {
  const size = Math.ceil(items.length / n);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function judgeItemsFromSamples(samples: readonly StudentSample[]): JudgeTrainItem[] {
  return samples.map((s) => ({ question: s.problem.question, solution: s.solution, label: s.correct }));
}

/**
 * Prepares (or reuses) the toy world: the toy tokenizer, a weak student (small Llama, SFT on a
 * small labeled set) and a judge (larger Llama trained as a single-token Yes/No verifier on
 * synthetic corrupted solutions plus the student's own samples). Both are HF model folders under
 * `<cacheDir>/toy/<hash of the recipe config>/`, with `manifest.json` holding metrics, seeds,
 * template versions and timings. The folder is built under a temporary name and renamed, so a
 * crash never leaves a half-written recipe that a later run would reuse.
 */
export async function prepareToyWorld(options: PrepareToyWorldOptions): Promise<PreparedToyWorld> {
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

  const existing = options.force ? undefined : readManifest(dir);
  if (existing) {
    say(`toy: reusing cached recipe ${hash} at ${dir} (use --force to retrain)`);
    const manifest = await addMissingJudgeMetrics(dir, existing, threads, say);
    return { dir, ...paths(dir), manifest, cached: true };
  }

  removeAbandonedWork(dir);
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const p = paths(work);
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  // The two pipelines overlap, so each keeps its own mark; judge_training counts from the start.
  const marks = { student: t0, judge: t0 };
  const lap = (name: string, pipeline: keyof typeof marks = 'student'): void => {
    const now = performance.now();
    timings[name] = (now - marks[pipeline]) / 1000;
    marks[pipeline] = now;
    say(`toy: ${name} done in ${formatSeconds(timings[name]!)}`);
  };
  const { seed } = config;

  writeToyTokenizer(p.tokenizerDir);
  const tokenizer: ModelTokenizer = loadModelTokenizer(p.tokenizerDir);

  // The student pipeline (SFT → eval → samples) and the judge's phase 1 (synthetic data) run at
  // the same time, each session in its own worker; the judge's phase 2 waits for the samples.
  const studentConfig = toyLlamaConfig(config.student.dims);
  const studentTrain = generateToyProblems(config.student.trainProblems, {
    seed: `student:${seed}`,
    split: 'id',
  });
  const judgeConfig = toyLlamaConfig(config.judge.dims);
  const synthetic = shuffle(
    generateVerifierData(
      config.judge.syntheticDifficultyMix.flatMap((share, i) =>
        generateToyProblems(Math.round(share * config.judge.syntheticProblems), {
          seed: `judge:${seed}:d${i + 1}`,
          split: 'id',
          difficulty: (i + 1) as ToyDifficulty,
        }),
      ),
      { seed, wrongPerProblem: config.judge.wrongPerProblem },
    ).map((e) => ({ question: e.question, solution: e.solution, label: e.label })),
    `judge-items:${seed}`,
  );
  const solverProblems = generateToyProblems(config.judge.pretrainProblems, {
    seed: `judge-pretrain:${seed}`,
    split: 'id',
  }).map((p) => ({ question: p.question, solution: p.solution ?? '' }));
  const replay = synthetic.slice(0, config.judge.replayExamples);
  // The judge's phase 2 trains on the student's samples part by part, each with its share of the
  // replayed phase-1 examples, while the student is still drawing the later parts.
  const sampleChunks = chunksOf(
    generateToyProblems(config.judge.studentSampleProblems, { seed: `judge-student:${seed}`, split: 'id' }),
    STUDENT_SAMPLE_CHUNKS,
  );
  const replayChunks = chunksOf(replay, STUDENT_SAMPLE_CHUNKS);
  const partCounts = sampleChunks.map(
    (chunk, k) => chunk.length * config.judge.samplesPerProblem + (replayChunks[k]?.length ?? 0),
  );
  const phase2Count = partCounts.reduce((a, b) => a + b, 0);
  say(
    `toy: student ${countParams(studentConfig)} params, SFT on ${studentTrain.length} problems × ` +
      `${config.student.train.epochs} epochs; judge ${countParams(judgeConfig)} params, solves ` +
      `${solverProblems.length} problems × ${config.judge.pretrainEpochs}, then ${synthetic.length} synthetic ` +
      `examples × ${config.judge.syntheticEpochs}, then ${phase2Count} ` +
      `(student samples + ${replay.length} replayed) × ${config.judge.studentSampleEpochs}`,
  );

  const sampleHandoff = createHandoff<StudentSample[]>(sampleChunks.length);

  const studentPipeline = (async () => {
    const student = await trainOnSequences({
      label: 'toy: student sft',
      config: studentConfig,
      params: createRandomLlamaWeights(studentConfig, seed),
      phases: [
        {
          sequences: studentSftSequences(tokenizer, studentConfig, studentTrain),
          count: studentTrain.length,
          epochs: config.student.train.epochs,
        },
      ],
      train: config.student.train,
      seed,
      threads,
      onProgress: say,
    });
    saveModel(p.studentDir, studentConfig, student.params, p.tokenizerDir);
    lap('student_sft');
    const model = createLlamaModel(studentConfig, student.params, tokenizer, { intraOpThreads: threads });
    try {
      const n = config.eval.studentProblems;
      const greedy = {
        samplesPerProblem: 1,
        temperature: 0,
        maxNewTokens: config.sampling.maxNewTokens,
        seed,
        onProgress: say,
      };
      const id = await sampleStudent(model, generateToyProblems(n, { seed: TOY_EVAL_SEED, split: 'id' }), {
        ...greedy,
        label: 'toy: student eval (in-domain)',
      });
      const ood = await sampleStudent(model, generateToyProblems(n, { seed: TOY_EVAL_SEED, split: 'ood' }), {
        ...greedy,
        label: 'toy: student eval (held-out templates)',
      });
      const accuracyId = mean(id.map((x) => (x.correct ? 1 : 0)));
      const accuracyOod = mean(ood.map((x) => (x.correct ? 1 : 0)));
      say(
        `toy: student greedy accuracy in-domain ${(100 * accuracyId).toFixed(1)}%, ` +
          `held-out templates ${(100 * accuracyOod).toFixed(1)}%`,
      );
      lap('student_eval');
      const sampling = {
        temperature: config.sampling.temperature,
        maxNewTokens: config.sampling.maxNewTokens,
        onProgress: say,
      };
      // In chunks, each handed to the judge as soon as it is drawn.
      const trainSamples: StudentSample[] = [];
      for (const [k, chunk] of sampleChunks.entries()) {
        const samples = await sampleStudent(model, chunk, {
          ...sampling,
          samplesPerProblem: config.judge.samplesPerProblem,
          seed: seed + 1,
          firstIndex: trainSamples.length,
          label: `toy: student samples for the judge (part ${k + 1}/${sampleChunks.length})`,
        });
        trainSamples.push(...samples);
        sampleHandoff.resolve(k, samples);
      }
      const evalSamples = await sampleJudgeEvalSet(model, config, say);
      lap('student_sampling');
      return { summary: student.summary, accuracyId, accuracyOod, trainSamples, evalSamples };
    } finally {
      await model.close();
    }
  })();

  const judgePipeline = trainOnSequences({
    label: 'toy: judge training',
    config: judgeConfig,
    params: createRandomLlamaWeights(judgeConfig, seed + 7),
    phases: [
      {
        sequences: judgeSolverSequences(tokenizer, solverProblems),
        count: solverProblems.length,
        epochs: config.judge.pretrainEpochs,
      },
      {
        sequences: judgeSequences(tokenizer, synthetic, config.judge.lmLossWeight),
        count: synthetic.length,
        epochs: config.judge.syntheticEpochs,
      },
      ...partCounts.map((count, k) => ({
        sequences: sampleHandoff.items[k]!.then((samples) =>
          judgeSequences(
            tokenizer,
            [...judgeItemsFromSamples(samples), ...(replayChunks[k] ?? [])],
            config.judge.lmLossWeight,
          ),
        ),
        count,
        epochs: config.judge.studentSampleEpochs,
      })),
    ],
    train: config.judge.train,
    seed: seed + 7,
    threads,
    onProgress: say,
  });
  // Both settle before anything is reported, so a failure in one never leaves the other running.
  studentPipeline.catch((e) => sampleHandoff.rejectRest(e));
  const [studentOutcome, judgeOutcome] = await Promise.allSettled([studentPipeline, judgePipeline]);
  if (studentOutcome.status === 'rejected') throw studentOutcome.reason;
  if (judgeOutcome.status === 'rejected') throw judgeOutcome.reason;
  const { accuracyId, accuracyOod, trainSamples, evalSamples } = studentOutcome.value;
  const judged = judgeOutcome.value;
  const student = { summary: studentOutcome.value.summary };
  saveModel(p.judgeDir, judgeConfig, judged.params, p.tokenizerDir);
  lap('judge_training', 'judge');

  const judgeModel = createLlamaModel(judgeConfig, judged.params, tokenizer, { intraOpThreads: threads });
  let scores: number[];
  let probe: SyntheticJudgeMetrics;
  let checks: JudgeCheckMetrics;
  try {
    scores = await judgeStudentSamples(judgeModel, evalSamples);
    probe = await probeJudgeOnSynthetic(judgeModel, seed);
    checks = await measureJudgeChecks(judgeModel, evalSamples, judgeCheckOptions(config));
  } finally {
    await judgeModel.close();
  }
  const labels = evalSamples.map((s) => s.correct);
  const agreement = judgeAgreement(scores, labels);
  const judgeMetrics = {
    accuracy: agreement.agreement,
    auroc: auroc(scores, labels),
    samples: scores.length,
    positiveRate: mean(labels.map((l) => (l ? 1 : 0))),
    meanScoreCorrect: mean(scores.filter((_, i) => labels[i])),
    meanScoreWrong: mean(scores.filter((_, i) => !labels[i])),
    synthetic: probe,
    chains: chainLabelMetrics(chainLabelSamples(evalSamples), scores),
    checks,
  };
  say(
    `toy: judge on ${scores.length} fresh student samples: accuracy ${(100 * judgeMetrics.accuracy).toFixed(1)}%, ` +
      `AUROC ${judgeMetrics.auroc.toFixed(3)}; on ${probe.samples} held-out synthetic examples: ` +
      `AUROC ${probe.auroc.toFixed(3)}; against chain correctness AUROC ` +
      `${judgeMetrics.chains.judgeAurocOnChains.toFixed(3)} (a perfect chain checker: ` +
      `${judgeMetrics.chains.chainCheckerAuroc.toFixed(3)})`,
  );
  say(`toy: judge checks: ${describeJudgeChecks(checks)}`);
  lap('judge_eval', 'judge');
  timings['total'] = (performance.now() - t0) / 1000;

  const manifest: CompleteToyWorldManifest = {
    format: TOY_MANIFEST_FORMAT,
    recipeVersion: TOY_RECIPE_VERSION,
    hash,
    createdAt: new Date().toISOString(),
    config,
    templates: { student: PLAIN_TEMPLATE.version, judge: JUDGE_TEMPLATE.version },
    models: {
      student: { dir: 'student', params: countParams(studentConfig) },
      judge: { dir: 'judge', params: countParams(judgeConfig) },
      tokenizer: { dir: 'tokenizer' },
    },
    data: {
      studentTrainProblems: studentTrain.length,
      judgeSolverProblems: solverProblems.length,
      judgeSyntheticExamples: synthetic.length,
      judgeStudentSamples: trainSamples.length,
      judgeEvalSamples: evalSamples.length,
    },
    training: { student: student.summary, judge: judged.summary },
    metrics: {
      student: {
        accuracyId,
        accuracyOod,
        evalProblems: config.eval.studentProblems,
        sampleAccuracyTrain: mean(trainSamples.map((s) => (s.correct ? 1 : 0))),
      },
      judge: judgeMetrics,
    },
    timings,
  };
  writeManifest(work, manifest);
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return { dir, ...paths(dir), manifest, cached: false };
}
