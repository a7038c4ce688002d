import { generateToyProblems, generateVerifierData, type ToyDifficulty } from '@verdict/data';
import { createRandomLlamaWeights, type LlamaModel, type ModelTokenizer } from '@verdict/models';
import type { ParamMap } from '@verdict/rl';
import { createHandoff } from './handoff.js';
import type { JudgeTrainItem } from './judge-data.js';
import { judgeSequences, judgeSolverSequences } from './judge-data.js';
import { mean } from './judge-scores.js';
import { type StudentSample, sampleStudent } from './student-samples.js';
import { countParams, toyLlamaConfig } from './toy-model.js';
import type { ToyRecipeConfig, TrainedToyJudgeConfig } from './toy-recipe-config.js';
import { shuffle, type TrainSummary, trainOnSequences } from './train-examples.js';

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

export interface WorldJudge {
  readonly params: ParamMap;
  readonly summary: TrainSummary;
  readonly data: Record<string, number>;
  /** Share of correct samples among the student samples it learned from. */
  readonly sampleAccuracyTrain: number;
}

/**
 * The small judge a quick world trains beside its student (the full world uses the committed one):
 * phase 0 solves, phase 1 judges synthetic corrupted solutions, phase 2 judges the student's own
 * samples (drawn in four parts while the judge trains, each with its share of replayed phase-1
 * items).
 */
export async function trainWorldJudge(options: {
  readonly config: ToyRecipeConfig;
  readonly judge: TrainedToyJudgeConfig;
  readonly tokenizer: ModelTokenizer;
  readonly student: LlamaModel;
  readonly onProgress: (line: string) => void;
}): Promise<WorldJudge> {
  const { config, judge, tokenizer } = options;
  const say = options.onProgress;
  const { seed } = config;
  const judgeConfig = toyLlamaConfig(judge.dims);
  const synthetic = shuffle(
    generateVerifierData(
      judge.syntheticDifficultyMix.flatMap((share, i) =>
        generateToyProblems(Math.round(share * judge.syntheticProblems), {
          seed: `judge:${seed}:d${i + 1}`,
          split: 'id',
          difficulty: (i + 1) as ToyDifficulty,
        }),
      ),
      { seed, wrongPerProblem: judge.wrongPerProblem },
    ).map((e) => ({ question: e.question, solution: e.solution, label: e.label })),
    `judge-items:${seed}`,
  );
  const solverProblems = generateToyProblems(judge.pretrainProblems, {
    seed: `judge-pretrain:${seed}`,
    split: 'id',
  }).map((p) => ({ question: p.question, solution: p.solution ?? '' }));
  const replayChunks = chunksOf(synthetic.slice(0, judge.replayExamples), STUDENT_SAMPLE_CHUNKS);
  const sampleChunks = chunksOf(
    generateToyProblems(judge.studentSampleProblems, { seed: `judge-student:${seed}`, split: 'id' }),
    STUDENT_SAMPLE_CHUNKS,
  );
  const partCounts = sampleChunks.map(
    (chunk, k) => chunk.length * judge.samplesPerProblem + (replayChunks[k]?.length ?? 0),
  );
  say(
    `toy: judge ${countParams(judgeConfig)} params, solves ${solverProblems.length} problems × ` +
      `${judge.pretrainEpochs}, then ${synthetic.length} synthetic examples × ${judge.syntheticEpochs}, ` +
      `then ${partCounts.reduce((a, b) => a + b, 0)} (student samples + replayed) × ${judge.studentSampleEpochs}`,
  );

  const handoff = createHandoff<StudentSample[]>(sampleChunks.length);
  const sampling = (async () => {
    const all: StudentSample[] = [];
    for (const [k, chunk] of sampleChunks.entries()) {
      const samples = await sampleStudent(options.student, chunk, {
        temperature: config.sampling.temperature,
        maxNewTokens: config.sampling.maxNewTokens,
        samplesPerProblem: judge.samplesPerProblem,
        seed: seed + 1,
        firstIndex: all.length,
        label: `toy: student samples for the judge (part ${k + 1}/${sampleChunks.length})`,
        onProgress: say,
      });
      all.push(...samples);
      handoff.resolve(k, samples);
    }
    return all;
  })();
  sampling.catch((e) => handoff.rejectRest(e));

  const training = trainOnSequences({
    label: 'toy: judge training',
    config: judgeConfig,
    params: createRandomLlamaWeights(judgeConfig, seed + 7),
    phases: [
      {
        sequences: judgeSolverSequences(tokenizer, solverProblems),
        count: solverProblems.length,
        epochs: judge.pretrainEpochs,
      },
      {
        sequences: judgeSequences(tokenizer, synthetic, judge.lmLossWeight),
        count: synthetic.length,
        epochs: judge.syntheticEpochs,
      },
      ...partCounts.map((count, k) => ({
        sequences: handoff.items[k]!.then((samples) =>
          judgeSequences(
            tokenizer,
            [...judgeItemsFromSamples(samples), ...(replayChunks[k] ?? [])],
            judge.lmLossWeight,
          ),
        ),
        count,
        epochs: judge.studentSampleEpochs,
      })),
    ],
    train: judge.train,
    seed: seed + 7,
    threads: config.threads,
    onProgress: say,
  });
  // Both settle before anything is reported, so a failure in one never leaves the other running.
  const [samples, trained] = await Promise.allSettled([sampling, training]);
  if (samples.status === 'rejected') throw samples.reason;
  if (trained.status === 'rejected') throw trained.reason;
  return {
    params: trained.value.params,
    summary: trained.value.summary,
    data: {
      judgeSolverProblems: solverProblems.length,
      judgeSyntheticExamples: synthetic.length,
      judgeStudentSamples: samples.value.length,
    },
    sampleAccuracyTrain: mean(samples.value.map((s) => (s.correct ? 1 : 0))),
  };
}
