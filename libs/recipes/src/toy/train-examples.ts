import { createRng, type LlamaFamilyConfig } from '@verdict/models';
import { createTrainer, type ParamMap, type TrainBatch } from '@verdict/rl';
import { createProgressMeter } from './progress.js';
import type { ToyTrainConfig } from './toy-recipe-config.js';

/**
 * One training sequence: `ids[t+1]` is predicted at position t with weight `weights[t+1]`
 * (0 = no loss). The loss is Σ w·nll / Σ w over the batch, so weights set the mix of terms.
 */
export interface WeightedSequence {
  readonly ids: readonly number[];
  readonly weights: readonly number[];
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
      targets[b * T + t] = row.ids[t + 1]!;
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

/**
 * Trains `params` on the sequences for `train.epochs` (AdamW, warmup then cosine to 10%, clip 1)
 * and returns the trained parameters. Batches are grouped by length within a shuffled window so
 * padding stays small.
 */
export async function trainOnSequences(options: {
  readonly label: string;
  readonly config: LlamaFamilyConfig;
  readonly params: ParamMap;
  readonly sequences: readonly WeightedSequence[];
  readonly train: ToyTrainConfig;
  readonly seed: number;
  readonly threads: number;
  readonly onProgress: (line: string) => void;
}): Promise<{ params: ParamMap; summary: TrainSummary }> {
  const { train, sequences } = options;
  const epochBatches = (epoch: number): WeightedSequence[][] => {
    const order = shuffle(sequences, options.seed * 1000 + epoch);
    // Sort windows of 16 batches by length: similar lengths share a batch, order stays random.
    const window = train.batchSize * 16;
    const batches: WeightedSequence[][] = [];
    for (let w = 0; w < order.length; w += window) {
      const chunk = order.slice(w, w + window).sort((a, b) => a.ids.length - b.ids.length);
      for (let i = 0; i < chunk.length; i += train.batchSize)
        batches.push(chunk.slice(i, i + train.batchSize));
    }
    return shuffle(batches, options.seed * 1000 + epoch + 500);
  };
  const stepsPerEpoch = Math.ceil(sequences.length / train.batchSize);
  const totalSteps = stepsPerEpoch * train.epochs;
  const trainer = createTrainer({
    config: options.config,
    params: options.params,
    loss: { kind: 'sft' },
    schedule: {
      kind: 'cosine',
      peakLr: train.lr,
      warmupSteps: Math.min(20, Math.max(1, Math.floor(totalSteps * 0.05))),
      totalSteps,
      minLr: train.lr * 0.1,
    },
    optimizer: { weightDecay: 0.01 },
    maxGradNorm: 1,
    intraOpThreads: options.threads,
  });
  const meter = createProgressMeter(options.label, totalSteps, 'steps', options.onProgress);
  const started = performance.now();
  let tokens = 0;
  let firstLoss = Number.NaN;
  let lossEma = Number.NaN;
  let lastLoss = Number.NaN;
  try {
    for (let epoch = 0; epoch < train.epochs; epoch++) {
      for (const group of epochBatches(epoch)) {
        const batch = weightedBatch(group);
        const r = await trainer.trainStep([batch]);
        for (let i = 0; i < batch.attentionMask.length; i++) tokens += batch.attentionMask[i]!;
        if (Number.isNaN(firstLoss)) firstLoss = r.loss;
        lastLoss = r.loss;
        lossEma = Number.isNaN(lossEma) ? r.loss : 0.9 * lossEma + 0.1 * r.loss;
        const elapsed = (performance.now() - started) / 1000;
        meter.update(
          r.step,
          `epoch ${epoch + 1}/${train.epochs} loss ${lossEma.toFixed(4)} tok/s ${Math.round(tokens / elapsed)}`,
        );
      }
    }
    const params: ParamMap = new Map([...trainer.params].map(([n, d]) => [n, d.slice()]));
    return {
      params,
      summary: {
        steps: trainer.step,
        tokens,
        firstLoss,
        finalLoss: lastLoss,
        seconds: (performance.now() - started) / 1000,
      },
    };
  } finally {
    await trainer.close();
  }
}
