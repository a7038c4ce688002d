import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateToyProblems, generateVerifierData } from '@verdict/data';
import { createLlamaModel, createRandomLlamaWeights, judge, loadModelTokenizer } from '@verdict/models';
import { auroc, saveTrainingCheckpoint } from '@verdict/rl';
import { judgeSequences } from '../toy/judge-data.js';
import type { ToyWorld } from '../toy/prepare-toy-world.js';
import { countParams, toyLlamaConfig } from '../toy/toy-model.js';
import { shuffle, trainOnSequences } from '../toy/train-examples.js';
import type { WeakJudgeConfig } from './experiment-config.js';

const WEAK_DIMS = { hiddenSize: 64, numLayers: 2, numHeads: 2, intermediateSize: 192 } as const;
const INFO = 'weak-judge.json';

export interface WeakJudge {
  readonly dir: string;
  readonly cached: boolean;
  /** AUROC of its score against correctness on fresh synthetic right/wrong solutions (≈0.5 = blind). */
  readonly aurocCorrectness: number;
  /** AUROC against "the solution is long": what it actually learned. */
  readonly aurocLength: number;
  readonly params: number;
}

export function lineCount(solution: string): number {
  return solution.split('\n').filter((l) => l.trim() !== '').length;
}

/**
 * A deliberately weak judge for the reward-hacking demonstration: a small model trained briefly on
 * toy solutions labeled by LENGTH (Yes iff at least `minLines` lines), not by correctness. A policy
 * rewarded by it gains by writing longer solutions, whatever their answer: the judge reward rises
 * while judge–gold agreement and accuracy fall, which the guard must catch. Cached next to the toy
 * world (keyed by the world's hash, this config and the seed); built under a temp name and renamed.
 */
export async function prepareWeakJudge(
  world: ToyWorld,
  config: WeakJudgeConfig,
  options: { seed: number; threads?: number; onProgress?: (line: string) => void },
): Promise<WeakJudge> {
  const say = options.onProgress ?? (() => {});
  const key = createHash('sha256')
    .update(JSON.stringify({ world: world.manifest.hash, config, seed: options.seed, dims: WEAK_DIMS }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(dirname(dirname(world.dir)), 'toy-weak-judge', key);
  if (existsSync(join(dir, INFO)) && existsSync(join(dir, 'model.safetensors'))) {
    const info = JSON.parse(readFileSync(join(dir, INFO), 'utf8')) as Omit<WeakJudge, 'dir' | 'cached'>;
    say(`weak judge: reusing ${dir}`);
    return { dir, cached: true, ...info };
  }
  const threads = options.threads ?? 2;
  const tokenizer = loadModelTokenizer(world.tokenizerDir);
  const modelConfig = toyLlamaConfig(WEAK_DIMS);
  const examples = generateVerifierData(
    generateToyProblems(config.problems, { seed: `weak-judge:${options.seed}`, split: 'id' }),
    { seed: options.seed, wrongPerProblem: 1 },
  );
  const items = shuffle(
    examples.map((e) => ({
      question: e.question,
      solution: e.solution,
      label: lineCount(e.solution) >= config.minLines,
    })),
    `weak-judge-items:${options.seed}`,
  );
  say(
    `weak judge: ${countParams(modelConfig)} params, ${items.length} solutions labeled by length (≥ ${config.minLines} lines: ${items.filter((i) => i.label).length})`,
  );
  const trained = await trainOnSequences({
    label: 'weak judge training',
    config: modelConfig,
    params: createRandomLlamaWeights(modelConfig, options.seed + 13),
    sequences: judgeSequences(tokenizer, items, 0),
    train: { epochs: config.epochs, batchSize: 16, lr: config.lr },
    seed: options.seed + 13,
    threads,
    onProgress: say,
  });
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  saveTrainingCheckpoint(
    work,
    { config: modelConfig, params: trained.params, extra: { recipe: 'toy-weak-judge' } },
    { tokenizerFrom: world.tokenizerDir },
  );

  const fresh = generateVerifierData(
    generateToyProblems(64, { seed: `weak-judge-eval:${options.seed}`, split: 'id' }),
    { seed: options.seed + 1, wrongPerProblem: 1 },
  );
  const model = createLlamaModel(modelConfig, trained.params, tokenizer, { intraOpThreads: threads });
  let scores: number[];
  try {
    const results = await judge(
      model,
      fresh.map((e) => ({ question: e.question, answer: e.solution })),
      { template: 'plain', maxBatchSize: 32 },
    );
    scores = results.map((r) => r.score);
  } finally {
    await model.close();
  }
  const info = {
    aurocCorrectness: auroc(
      scores,
      fresh.map((e) => e.label),
    ),
    aurocLength: auroc(
      scores,
      fresh.map((e) => lineCount(e.solution) >= config.minLines),
    ),
    params: countParams(modelConfig),
  };
  say(
    `weak judge: AUROC vs correctness ${info.aurocCorrectness.toFixed(3)}, vs length ${info.aurocLength.toFixed(3)}`,
  );
  writeFileSync(join(work, INFO), `${JSON.stringify(info, null, 2)}\n`);
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return { dir, cached: false, ...info };
}
