import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, type LlamaFamilyConfig } from '@verdict/models';
import { createTrainer, loadTrainingCheckpoint, type ParamMap, type TrainBatch } from '@verdict/rl';
import { createProgressMeter } from './progress.js';
import type { ToyTrainConfig } from './toy-recipe-config.js';

/**
 * One training sequence: `ids[t+1]` is predicted at position t with weight `weights[t+1]`
 * (0 = no loss). The loss is Σ w·nll / Σ w over the batch, so weights set the mix of terms.
 */
export interface WeightedSequence {
  readonly ids: readonly number[];
  readonly weights: readonly number[];
  /**
   * What position t is trained to predict when it is not the next input token: `targets[t+1]`
   * replaces `ids[t+1]` as the target (a judge's verdict at every token of a solution, read while
   * the solution itself stays the input). Same length as `ids`.
   */
  readonly targets?: readonly number[];
}

/** A right-padded training batch from weighted sequences. */
export function weightedBatch(rows: readonly WeightedSequence[], padId = 0): TrainBatch {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.ids.length)) - 1;
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Int32Array(B * T);
  const targets = new Int32Array(B * T).fill(padId);
  const lossMask = new Float32Array(B * T);
  rows.forEach((row, b) => {
    for (let t = 0; t < row.ids.length - 1; t++) {
      inputIds[b * T + t] = row.ids[t]!;
      attentionMask[b * T + t] = 1;
      targets[b * T + t] = (row.targets ?? row.ids)[t + 1]!;
      lossMask[b * T + t] = row.weights[t + 1] ?? 0;
    }
  });
  return { batchSize: B, seqLen: T, inputIds, attentionMask, targets, lossMask };
}

export function shuffle<T>(items: readonly T[], seed: number | string): T[] {
  const rng = createRng(typeof seed === 'number' ? seed : hashSeed(seed));
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export interface TrainSummary {
  readonly steps: number;
  readonly tokens: number;
  readonly firstLoss: number;
  readonly finalLoss: number;
  readonly seconds: number;
}

/** A stretch of training data; `sequences` may still be in the making (a promise). */
export interface TrainPhase {
  readonly sequences: readonly WeightedSequence[] | Promise<readonly WeightedSequence[]>;
  /** Number of sequences (known up front, so the LR schedule spans every phase). */
  readonly count: number;
  readonly epochs: number;
}

function batchesOf(
  sequences: readonly WeightedSequence[],
  batchSize: number,
  seed: number,
): WeightedSequence[][] {
  const order = shuffle(sequences, seed);
  // Sort windows of 16 batches by length: similar lengths share a batch, order stays random.
  const window = batchSize * 16;
  const batches: WeightedSequence[][] = [];
  for (let w = 0; w < order.length; w += window) {
    const chunk = order.slice(w, w + window).sort((a, b) => a.ids.length - b.ids.length);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return shuffle(batches, seed + 500);
}

/** Periodic checkpoints of a long training run, and where a restarted run picks up. */
export interface TrainCheckpointing {
  /** Holds `latest/` (the newest complete checkpoint); created when missing. */
  readonly dir: string;
  readonly everySteps: number;
  /** Tokenizer files copied into each checkpoint so it loads as a model on its own. */
  readonly tokenizerFrom?: string;
}

/** Running totals that a resumed run continues from (kept in the checkpoint's trainer state). */
interface TrainTotals {
  tokens: number;
  firstLoss: number;
  seconds: number;
}

const LATEST = 'latest';

/** The checkpoint a restarted run resumes from, or undefined when there is none yet. */
function readLatest(checkpointing: TrainCheckpointing | undefined) {
  if (checkpointing === undefined) return undefined;
  const dir = join(checkpointing.dir, LATEST);
  if (!existsSync(join(dir, 'trainer_state.json'))) return undefined;
  const ckpt = loadTrainingCheckpoint(dir);
  if (ckpt.optimizer === undefined) throw new Error(`${dir}: checkpoint without optimizer state`);
  return { ...ckpt, optimizer: ckpt.optimizer, totals: ckpt.extra?.['totals'] as TrainTotals };
}

/**
 * Trains `params` through the phases in order (AdamW, warmup then cosine to 10% over all phases,
 * clip 1) and returns the trained parameters. A phase whose data is a promise is awaited when
 * reached, so training on ready data overlaps with producing the rest (the judge trains on
 * synthetic data while the student is still sampling). Batches group similar lengths.
 *
 * With `checkpointing`, the parameters, AdamW moments and totals are saved every `everySteps`
 * (into a fresh folder renamed over `latest/`, so a kill mid-write leaves the previous one whole),
 * and a run that finds a checkpoint starts from it: the batch order is a function of the seed,
 * so it skips the batches already trained on and goes on exactly where the killed run was.
 */
export async function trainOnSequences(options: {
  readonly label: string;
  readonly config: LlamaFamilyConfig;
  readonly params: ParamMap;
  /** The data in phases; or `sequences` for one phase of `train.epochs` (default 1). */
  readonly phases?: readonly TrainPhase[];
  readonly sequences?: readonly WeightedSequence[];
  readonly train: Omit<ToyTrainConfig, 'epochs'> & { readonly epochs?: number };
  readonly seed: number;
  readonly threads: number;
  readonly onProgress: (line: string) => void;
  readonly checkpointing?: TrainCheckpointing;
}): Promise<{ params: ParamMap; summary: TrainSummary }> {
  const { train } = options;
  const phases: readonly TrainPhase[] =
    options.phases ??
    (options.sequences === undefined
      ? []
      : [{ sequences: options.sequences, count: options.sequences.length, epochs: train.epochs ?? 1 }]);
  if (phases.length === 0) throw new RangeError(`${options.label}: no training data (phases or sequences)`);
  const totalSteps = phases.reduce((n, p) => n + p.epochs * Math.ceil(p.count / train.batchSize), 0);
  const resumed = readLatest(options.checkpointing);
  const trainer = createTrainer({
    config: options.config,
    params: resumed?.params ?? options.params,
    ...(resumed ? { optimizerState: resumed.optimizer } : {}),
    loss: { kind: 'sft' },
    schedule: {
      kind: 'cosine',
      peakLr: train.lr,
      warmupSteps: Math.min(20, Math.max(1, Math.floor(totalSteps * 0.05))),
      totalSteps,
      minLr: train.lr * 0.1,
    },
    optimizer: { weightDecay: 0.01, beta2: train.beta2 ?? 0.999 },
    maxGradNorm: 1,
    intraOpThreads: options.threads,
  });
  const startStep = trainer.step;
  if (resumed) options.onProgress(`${options.label}: resuming at step ${startStep} of ${totalSteps}`);
  const meter = createProgressMeter(options.label, totalSteps, 'steps', options.onProgress, {
    startAt: startStep,
  });
  let started = performance.now();
  let tokens = resumed?.totals.tokens ?? 0;
  let firstLoss = resumed?.totals.firstLoss ?? Number.NaN;
  const earlierSeconds = resumed?.totals.seconds ?? 0;
  let lossEma = Number.NaN;
  let lastLoss = Number.NaN;
  let waitedMs = 0;
  let batchIndex = 0;
  const trainedSeconds = () => earlierSeconds + (performance.now() - started - waitedMs) / 1000;
  const saveLatest = (): void => {
    const c = options.checkpointing;
    if (c === undefined) return;
    const next = join(c.dir, `${LATEST}.next`);
    rmSync(next, { recursive: true, force: true });
    trainer.save(next, {
      ...(c.tokenizerFrom ? { tokenizerFrom: c.tokenizerFrom } : {}),
      extra: { totals: { tokens, firstLoss, seconds: trainedSeconds() } satisfies TrainTotals },
    });
    rmSync(join(c.dir, LATEST), { recursive: true, force: true });
    renameSync(next, join(c.dir, LATEST));
  };
  try {
    for (const [phaseIndex, phase] of phases.entries()) {
      const waitStart = performance.now();
      const sequences = await phase.sequences;
      // Time spent waiting for a later phase's data is not training time (tok/s).
      if (phaseIndex === 0) started = performance.now();
      else waitedMs += performance.now() - waitStart;
      for (let epoch = 0; epoch < phase.epochs; epoch++) {
        const seed = options.seed * 1000 + phaseIndex * 100 + epoch;
        for (const group of batchesOf(sequences, train.batchSize, seed)) {
          if (trainer.step >= totalSteps) break;
          // Resuming: these batches were trained on before the checkpoint.
          if (batchIndex++ < startStep) continue;
          const batch = weightedBatch(group);
          const r = await trainer.trainStep([batch]);
          for (let i = 0; i < batch.attentionMask.length; i++) tokens += batch.attentionMask[i]!;
          if (Number.isNaN(firstLoss)) firstLoss = r.loss;
          lastLoss = r.loss;
          lossEma = Number.isNaN(lossEma) ? r.loss : 0.9 * lossEma + 0.1 * r.loss;
          meter.update(
            r.step,
            `phase ${phaseIndex + 1}/${phases.length} loss ${lossEma.toFixed(4)} tok/s ${Math.round(tokens / trainedSeconds())}`,
          );
          if (options.checkpointing && r.step % options.checkpointing.everySteps === 0) saveLatest();
        }
      }
    }
    // The end is a checkpoint too: a later phase that resumes finds this one finished, not its tail to redo.
    if (
      options.checkpointing &&
      trainer.step > startStep &&
      trainer.step % options.checkpointing.everySteps !== 0
    )
      saveLatest();
    const params: ParamMap = new Map([...trainer.params].map(([n, d]) => [n, d.slice()]));
    return {
      params,
      summary: {
        steps: trainer.step,
        tokens,
        firstLoss,
        finalLoss: lastLoss,
        seconds: trainedSeconds(),
      },
    };
  } finally {
    await trainer.close();
  }
}
