import {
  createRng,
  loadModelConfig,
  loadModelTokenizer,
  loadModelWeights,
  maxSequenceLength,
} from '@verdict/models';
import type { Trainer } from '../trainer.js';
import { createTrainer } from '../trainer.js';
import {
  readSftJsonl,
  SftInputError,
  sftBatch,
  type TokenizedSftExample,
  tokenizeSftExamples,
} from './sft-data.js';

export interface SftRunOptions {
  /** Hugging Face model folder to start from. */
  readonly modelDir: string;
  /** prompt/completion JSONL. */
  readonly dataPath: string;
  /** Output checkpoint folder (loads in `verdict generate`). */
  readonly outDir: string;
  readonly epochs?: number;
  /** Peak learning rate (warmup then cosine to 10% of it). Default 1e-4. */
  readonly lr?: number;
  readonly batchSize?: number;
  readonly maxSeqLen?: number;
  /** Shuffling and the train/eval split. Default 0. */
  readonly seed?: number;
  /** Share of examples held out for the eval loss. Default 0.1 (at least one example when > 0). */
  readonly evalFraction?: number;
  readonly weightDecay?: number;
  readonly maxGradNorm?: number;
  readonly intraOpThreads?: number;
  /** One line per step and per evaluation (the CLI prints them on stderr). */
  readonly onProgress?: (line: string) => void;
}

export interface SftSummary {
  readonly outDir: string;
  readonly steps: number;
  readonly epochs: number;
  readonly trainExamples: number;
  readonly evalExamples: number;
  readonly droppedExamples: number;
  readonly trainTokens: number;
  readonly finalTrainLoss: number;
  /** Held-out loss (token-mean NLL) before training and after the last epoch; null without an eval split. */
  readonly evalLossBefore: number | null;
  readonly evalLoss: number | null;
  readonly tokensPerSecond: number;
  readonly seconds: number;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rng = createRng(seed);
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`;
}

/** Token-mean NLL over the completion tokens of `examples`, by the forward-only graph. */
async function heldOutLoss(trainer: Trainer, examples: readonly TokenizedSftExample[], batchSize: number) {
  let nll = 0;
  let tokens = 0;
  for (const group of chunks(examples, batchSize)) {
    const batch = sftBatch(group);
    const lp = await trainer.logprobs(batch);
    for (let i = 0; i < lp.length; i++) {
      nll -= batch.lossMask[i]! * lp[i]!;
      tokens += batch.lossMask[i]!;
    }
  }
  return tokens > 0 ? nll / tokens : Number.NaN;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new SftInputError('INVALID_ARGUMENT', message);
}

/** Supervised fine-tuning on prompt/completion pairs: loss on completion tokens only. */
export async function runSft(options: SftRunOptions): Promise<SftSummary> {
  const epochs = options.epochs ?? 1;
  const lr = options.lr ?? 1e-4;
  const batchSize = options.batchSize ?? 8;
  const seed = options.seed ?? 0;
  const evalFraction = options.evalFraction ?? 0.1;
  const say = options.onProgress ?? (() => {});
  check(Number.isInteger(epochs) && epochs >= 1, `--epochs must be an integer >= 1 (got ${epochs})`);
  check(lr > 0 && Number.isFinite(lr), `--lr must be > 0 (got ${lr})`);
  check(
    Number.isInteger(batchSize) && batchSize >= 1,
    `--batch-size must be an integer >= 1 (got ${batchSize})`,
  );
  check(evalFraction >= 0 && evalFraction < 1, `--eval-fraction must be in [0, 1) (got ${evalFraction})`);

  const config = loadModelConfig(options.modelDir); // any registered family (model_type)
  const limit = maxSequenceLength(config);
  const maxSeqLen = options.maxSeqLen ?? Math.min(256, limit.limit);
  check(
    Number.isInteger(maxSeqLen) && maxSeqLen >= 2 && maxSeqLen <= limit.limit,
    `--max-seq-len must be an integer in [2, ${limit.limit}] (${limit.field}) (got ${maxSeqLen})`,
  );
  const tokenizer = loadModelTokenizer(options.modelDir);
  const weights = loadModelWeights(options.modelDir, config);
  const raw = readSftJsonl(options.dataPath);
  const eosId = config.eosTokenIds[0] ?? tokenizer.eosId;
  const { examples, dropped } = tokenizeSftExamples(tokenizer, raw, maxSeqLen, eosId);
  check(examples.length > 0, `--data: no example has a completion token within --max-seq-len ${maxSeqLen}`);
  const order = shuffled(examples, seed);
  const evalCount = evalFraction > 0 ? Math.max(1, Math.round(order.length * evalFraction)) : 0;
  check(order.length - evalCount >= 1, `--eval-fraction ${evalFraction} leaves no training example`);
  const evalSet = order.slice(0, evalCount);
  const trainSet = order.slice(evalCount);
  const stepsPerEpoch = Math.ceil(trainSet.length / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const warmupSteps = Math.min(10, Math.max(1, Math.floor(totalSteps * 0.05)));
  say(
    `sft: ${trainSet.length} train / ${evalSet.length} eval examples (${dropped} dropped), ` +
      `${epochs} epoch(s) × ${stepsPerEpoch} steps, batch ${batchSize}, max-seq-len ${maxSeqLen}`,
  );

  const trainer = createTrainer({
    config,
    params: weights,
    loss: { kind: 'sft' },
    schedule: { kind: 'cosine', peakLr: lr, warmupSteps, totalSteps, minLr: lr * 0.1 },
    optimizer: { weightDecay: options.weightDecay ?? 0 },
    maxGradNorm: options.maxGradNorm ?? 1,
    ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
  });
  try {
    const evalLossBefore = evalSet.length > 0 ? await heldOutLoss(trainer, evalSet, batchSize) : null;
    if (evalLossBefore !== null) say(`eval loss before training ${evalLossBefore.toFixed(4)}`);
    let evalLoss = evalLossBefore;
    const started = performance.now();
    let tokensSeen = 0;
    let lastLoss = Number.NaN;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const batches = chunks(shuffled(trainSet, seed + 1 + epoch), batchSize);
      for (const group of batches) {
        const batch = sftBatch(group);
        const r = await trainer.trainStep([batch]);
        lastLoss = r.loss;
        for (let i = 0; i < batch.attentionMask.length; i++) tokensSeen += batch.attentionMask[i]!;
        const elapsed = (performance.now() - started) / 1000;
        const eta = (elapsed / r.step) * (totalSteps - r.step);
        say(
          `epoch ${epoch + 1}/${epochs} step ${r.step}/${totalSteps} loss ${r.loss.toFixed(4)} ` +
            `lr ${r.lr.toExponential(2)} grad-norm ${r.gradNorm.toFixed(3)} ` +
            `tok/s ${Math.round(tokensSeen / elapsed)} eta ${formatSeconds(eta)}`,
        );
      }
      if (evalSet.length > 0) {
        evalLoss = await heldOutLoss(trainer, evalSet, batchSize);
        say(`epoch ${epoch + 1}/${epochs} eval loss ${evalLoss.toFixed(4)}`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    trainer.save(options.outDir, {
      tokenizerFrom: options.modelDir,
      extra: { sft: { epochs, lr, batchSize, maxSeqLen, seed, evalFraction, steps: trainer.step } },
    });
    say(`saved ${options.outDir}`);
    return {
      outDir: options.outDir,
      steps: trainer.step,
      epochs,
      trainExamples: trainSet.length,
      evalExamples: evalSet.length,
      droppedExamples: dropped,
      trainTokens: tokensSeen,
      finalTrainLoss: lastLoss,
      evalLossBefore,
      evalLoss,
      tokensPerSecond: tokensSeen / seconds,
      seconds,
    };
  } finally {
    await trainer.close();
  }
}
