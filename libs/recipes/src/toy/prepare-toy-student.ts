import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToyProblems, TOY_EVAL_SEED, writeToyTokenizer } from '@verdict/data';
import { createLlamaModel, createRandomLlamaWeights, loadModelTokenizer } from '@verdict/models';
import { saveTrainingCheckpoint } from '@verdict/rl';
import { mean } from './judge-scores.js';
import { formatSeconds } from './progress.js';
import { sha256File } from './shipped-judge.js';
import { studentSftSequences } from './student.js';
import { sampleStudent } from './student-samples.js';
import { countParams, toyLlamaConfig } from './toy-model.js';
import { type ToyStudentRecipe, toyStudentHash } from './toy-recipe-config.js';
import { removeAbandonedWork } from './toy-world-manifest.js';
import { type TrainSummary, trainOnSequences } from './train-examples.js';

export const TOY_STUDENT_FORMAT = 'verdict.toy-student.v1';
const STUDENT_MANIFEST = 'student.json';

/** What `prepareToyStudent` measured and made. */
export interface ToyStudentManifest {
  readonly format: typeof TOY_STUDENT_FORMAT;
  /** `toyStudentHash` of the recipe. */
  readonly hash: string;
  readonly params: number;
  /** sha256 of `student/model.safetensors` (deterministic for a fixed thread count). */
  readonly sha256: string;
  readonly trainProblems: number;
  readonly training: TrainSummary;
  /** Greedy strict accuracy on the first N problems of the `toy-id` / `toy-ood` suites. */
  readonly accuracyId: number;
  readonly accuracyOod: number;
  readonly evalProblems: number;
  readonly timings: Record<string, number>;
}

export interface ToyStudent {
  /** `<cacheDir>/toy-student/<student hash>`. */
  readonly dir: string;
  readonly studentDir: string;
  readonly tokenizerDir: string;
  readonly manifest: ToyStudentManifest;
  readonly cached: boolean;
}

function readStudent(dir: string): ToyStudentManifest | undefined {
  const path = join(dir, STUDENT_MANIFEST);
  if (!existsSync(path) || !existsSync(join(dir, 'student', 'model.safetensors'))) return undefined;
  const m = JSON.parse(readFileSync(path, 'utf8')) as ToyStudentManifest;
  return m.format === TOY_STUDENT_FORMAT ? m : undefined;
}

/**
 * Trains (or reuses) the toy student: a small Llama SFT-trained on labeled toy problems, then its
 * greedy accuracy in-domain and on held-out templates. Cached under its own hash, apart from any
 * judge, so a judge trained against it (`verdict toy train-judge`) and every world that uses it
 * share one student. Built under a temporary name and renamed, like the world.
 */
export async function prepareToyStudent(options: {
  readonly cacheDir: string;
  readonly recipe: ToyStudentRecipe;
  readonly force?: boolean;
  readonly onProgress?: (line: string) => void;
}): Promise<ToyStudent> {
  const say = options.onProgress ?? (() => {});
  const { recipe } = options;
  const hash = toyStudentHash(recipe);
  const dir = join(options.cacheDir, 'toy-student', hash);
  const paths = (root: string) => ({
    studentDir: join(root, 'student'),
    tokenizerDir: join(root, 'tokenizer'),
  });
  const existing = options.force ? undefined : readStudent(dir);
  if (existing) {
    say(`toy: reusing cached student ${hash} at ${dir}`);
    return { dir, ...paths(dir), manifest: existing, cached: true };
  }
  removeAbandonedWork(dir);
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const p = paths(work);
  const timings: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string): void => {
    timings[name] = (performance.now() - mark) / 1000;
    mark = performance.now();
    say(`toy: ${name} done in ${formatSeconds(timings[name]!)}`);
  };

  writeToyTokenizer(p.tokenizerDir);
  const tokenizer = loadModelTokenizer(p.tokenizerDir);
  const config = toyLlamaConfig(recipe.student.dims);
  const problems = generateToyProblems(recipe.student.trainProblems, {
    seed: `student:${recipe.seed}`,
    split: 'id',
  });
  say(
    `toy: student ${countParams(config)} params, SFT on ${problems.length} problems × ${recipe.student.train.epochs} epochs`,
  );
  const trained = await trainOnSequences({
    label: 'toy: student sft',
    config,
    params: createRandomLlamaWeights(config, recipe.seed),
    phases: [
      {
        sequences: studentSftSequences(tokenizer, config, problems),
        count: problems.length,
        epochs: recipe.student.train.epochs,
      },
    ],
    train: recipe.student.train,
    seed: recipe.seed,
    threads: recipe.threads,
    onProgress: say,
  });
  saveTrainingCheckpoint(
    p.studentDir,
    { config, params: trained.params, extra: { recipe: 'toy' } },
    {
      tokenizerFrom: p.tokenizerDir,
    },
  );
  lap('student_sft');

  const model = createLlamaModel(config, trained.params, tokenizer, { intraOpThreads: recipe.threads });
  const accuracy = async (split: 'id' | 'ood', label: string): Promise<number> => {
    const samples = await sampleStudent(
      model,
      generateToyProblems(recipe.eval.studentProblems, { seed: TOY_EVAL_SEED, split }),
      {
        label,
        samplesPerProblem: 1,
        temperature: 0,
        maxNewTokens: recipe.sampling.maxNewTokens,
        seed: recipe.seed,
        onProgress: say,
      },
    );
    return mean(samples.map((s) => (s.correct ? 1 : 0)));
  };
  let accuracyId: number;
  let accuracyOod: number;
  try {
    accuracyId = await accuracy('id', 'toy: student eval (in-domain)');
    accuracyOod = await accuracy('ood', 'toy: student eval (held-out templates)');
  } finally {
    await model.close();
  }
  say(
    `toy: student greedy accuracy in-domain ${(100 * accuracyId).toFixed(1)}%, ` +
      `held-out templates ${(100 * accuracyOod).toFixed(1)}%`,
  );
  lap('student_eval');
  const manifest: ToyStudentManifest = {
    format: TOY_STUDENT_FORMAT,
    hash,
    params: countParams(config),
    sha256: sha256File(join(p.studentDir, 'model.safetensors')),
    trainProblems: problems.length,
    training: trained.summary,
    accuracyId,
    accuracyOod,
    evalProblems: recipe.eval.studentProblems,
    timings,
  };
  writeFileSync(join(work, STUDENT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return { dir, ...paths(dir), manifest, cached: false };
}
