// Training throughput of the ONNX training graph + JS AdamW, vs the ORT MatMul peak measured in
// the same run. FLOPs per step = 6 × params × tokens (Kaplan et al.; attention FLOPs excluded, as
// in ../shared/docs/ort-training-probe.md). Step time counts everything a real step pays: feeding
// parameter copies, forward + backward in the pool worker, accumulation, clipping and AdamW.
// Then the same step (same weights, same batch) on @tensorflow/tfjs + wasm (./tfjs-baseline.ts) as
// the baseline, and one table of both with the ORT speed-up (target ≥ 10×) and the machine load.
//   node --import tsx libs/rl/bench/train.bench.ts
//   env: BENCH_STEPS, BENCH_THREADS (ORT), TFJS_STEPS (default 3), TFJS_BUDGET_S (per config,
//   default 45; a config whose warm-up step alone exceeds it reports that one step), BENCH_TFJS=0 skips TF.js

import os from 'node:os';
import { createRandomLlamaWeights, type LlamaFamilyConfig, parseLlamaFamilyConfig } from '@verdict/models';
import { measureMatMulPeakGflops } from '../../graph/bench/matmul-peak.js';
import type { ParamMap } from '../src/optim/param-map.js';
import type { TrainBatch } from '../src/training/train-batch.js';
import { createTrainer } from '../src/training/trainer.js';
import { batchFromRows, randomRows } from '../test/helpers.js';
import { benchTfjsStep, type TfjsBenchResult, tfjsVersion } from './tfjs-baseline.js';

const steps = Number(process.env.BENCH_STEPS ?? 5);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const tfjsSteps = Number(process.env.TFJS_STEPS ?? 3);
const tfjsBudgetMs = Number(process.env.TFJS_BUDGET_S ?? 45) * 1000;
const runTfjs = process.env.BENCH_TFJS !== '0';
const lr = 1e-4;

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface BenchConfig {
  readonly label: string;
  readonly config: LlamaFamilyConfig;
  readonly batch: number;
  readonly seq: number;
}

function llama(hidden: number, layers: number, heads: number, ffn: number, vocab: number): LlamaFamilyConfig {
  return parseLlamaFamilyConfig({
    model_type: 'llama',
    vocab_size: vocab,
    hidden_size: hidden,
    intermediate_size: ffn,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: heads,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: true,
  });
}

const configs: BenchConfig[] = [
  { label: '~1M', config: llama(128, 4, 4, 384, 1024), batch: 32, seq: 64 },
  { label: '~10M', config: llama(384, 5, 6, 1024, 2048), batch: 16, seq: 128 },
];

interface OrtResult {
  readonly stepMs: number;
  /** Loss of the warm-up step, i.e. at the initial weights (compared with TF.js's first loss). */
  readonly initialLoss: number;
}

async function benchOne(
  c: BenchConfig,
  peak: number,
  params: ParamMap,
  count: number,
  batch: TrainBatch,
): Promise<OrtResult> {
  const trainer = createTrainer({
    config: c.config,
    params,
    loss: { kind: 'sft' },
    schedule: { kind: 'constant', peakLr: lr },
    intraOpThreads: threads,
  });
  try {
    // warm-up: session creation and first-run allocations
    const initialLoss = (await trainer.trainStep([batch])).loss;
    const stepMs: number[] = [];
    const fbMs: number[] = [];
    const optMs: number[] = [];
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      const r = await trainer.trainStep([batch]);
      stepMs.push(performance.now() - t0);
      fbMs.push(r.forwardBackwardMs);
      optMs.push(r.optimizerMs);
    }
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ms = median(stepMs);
    const fb = median(fbMs);
    const opt = median(optMs);
    const tokens = c.batch * c.seq;
    const gflops = (6 * count * tokens) / (ms * 1e6);
    const fbGflops = (6 * count * tokens) / (fb * 1e6);
    console.log(
      `train ${c.label} params=${(count / 1e6).toFixed(2)}M tokens/step=${tokens} threads=${threads}: ` +
        `step ${ms.toFixed(1)} ms (session run ${fb.toFixed(1)} ms, accumulate+clip+AdamW ${opt.toFixed(1)} ms), ` +
        `${Math.round((tokens * 1000) / ms)} tokens/s, ${gflops.toFixed(1)} GFLOP/s = ${((100 * gflops) / peak).toFixed(1)}% of peak ` +
        `(fwd+bwd alone ${((100 * fbGflops) / peak).toFixed(1)}%)`,
    );
    return { stepMs: ms, initialLoss };
  } finally {
    await trainer.close();
  }
}

interface Row {
  readonly c: BenchConfig;
  readonly count: number;
  readonly ort: OrtResult;
  readonly tfjs: TfjsBenchResult | undefined;
}

function printTable(rows: readonly Row[]): void {
  const tokensPerS = (c: BenchConfig, ms: number) => Math.round((c.batch * c.seq * 1000) / ms);
  console.log(
    `\nORT (${threads} intra-op threads) vs TF.js ${tfjsVersion} wasm (single-threaded), same model, weights and batch; load ${load()}`,
  );
  console.log(
    '| config | params | tokens/step | ORT step ms | ORT tok/s | TF.js step ms | TF.js tok/s | ORT speed-up (≥ 10×) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const { c, count, ort, tfjs } of rows) {
    const tf =
      tfjs === undefined
        ? ['skipped', '–', '–']
        : [
            `${tfjs.stepMs.toFixed(0)}${tfjs.measuredSteps === 0 ? ' (warm-up step only)' : ` (median of ${tfjs.measuredSteps})`}`,
            String(tokensPerS(c, tfjs.stepMs)),
            `${(tfjs.stepMs / ort.stepMs).toFixed(1)}×${tfjs.stepMs / ort.stepMs >= 10 ? '' : ' (below target)'}`,
          ];
    console.log(
      `| ${c.label} | ${(count / 1e6).toFixed(2)}M | ${c.batch * c.seq} | ${ort.stepMs.toFixed(1)} | ${tokensPerS(c, ort.stepMs)} | ${tf.join(' | ')} |`,
    );
  }
}

async function main(): Promise<void> {
  console.log(`load (1/5/15 min) at start: ${load()} on ${os.cpus().length} CPUs`);
  const peak = await measureMatMulPeakGflops(threads);
  console.log(`matmul peak threads=${threads}: ${peak.toFixed(1)} GFLOP/s (1024^3 fp32, median of 9)`);
  const rows: Row[] = [];
  for (const c of configs) {
    const params = createRandomLlamaWeights(c.config, 1, 0.5);
    let count = 0;
    for (const p of params.values()) count += p.length;
    const batch = batchFromRows(randomRows(c.batch, c.seq + 1, c.config.vocabSize, 5));
    const ort = await benchOne(c, peak, params, count, batch);
    let tfjs: TfjsBenchResult | undefined;
    if (runTfjs) {
      tfjs = await benchTfjsStep({ config: c.config, params, batch, lr }, tfjsSteps, tfjsBudgetMs);
      const l = tfjs.losses;
      const last = l[l.length - 1]!;
      console.log(
        `tfjs  ${c.label}: ${tfjs.measuredSteps === 0 ? `one step took ${tfjs.stepMs.toFixed(0)} ms (over the ${tfjsBudgetMs / 1000} s budget: no more steps)` : `step ${tfjs.stepMs.toFixed(0)} ms (median of ${tfjs.measuredSteps} after a warm-up step)`}; ` +
          `loss at the initial weights ${l[0]!.toFixed(6)} (ORT ${ort.initialLoss.toFixed(6)}, |Δ| ${Math.abs(l[0]! - ort.initialLoss).toExponential(1)}), ` +
          `after ${l.length - 1} steps ${last.toFixed(6)}${l.length > 1 ? (last < l[0]! ? ' (decreasing)' : ' (NOT decreasing)') : ''}; load ${load()}`,
      );
    }
    rows.push({ c, count, ort, tfjs });
  }
  const peakAfter = await measureMatMulPeakGflops(threads);
  console.log(`matmul peak again after the runs: ${peakAfter.toFixed(1)} GFLOP/s (load drift check)`);
  printTable(rows);
}

await main();
