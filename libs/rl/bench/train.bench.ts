// Training throughput of the ONNX training graph + JS AdamW, vs the ORT MatMul peak measured in
// the same run. FLOPs per step = 6 × params × tokens (Kaplan et al.; attention FLOPs excluded, as
// in ../shared/docs/ort-training-probe.md). Step time counts everything a real step pays: feeding
// parameter copies, forward + backward in the pool worker, accumulation, clipping and AdamW.
//   node --import tsx libs/rl/bench/train.bench.ts        (BENCH_STEPS, BENCH_THREADS to override)

import { createRandomLlamaWeights, type LlamaFamilyConfig, parseLlamaFamilyConfig } from '@verdict/models';
import { measureMatMulPeakGflops } from '../../graph/bench/matmul-peak.js';
import { createTrainer } from '../src/training/trainer.js';
import { batchFromRows, randomRows } from '../test/helpers.js';

const steps = Number(process.env.BENCH_STEPS ?? 5);
const threads = Number(process.env.BENCH_THREADS ?? 2);

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

async function benchOne(c: BenchConfig, peak: number): Promise<void> {
  const params = createRandomLlamaWeights(c.config, 1, 0.5);
  let count = 0;
  for (const p of params.values()) count += p.length;
  const batch = batchFromRows(randomRows(c.batch, c.seq + 1, c.config.vocabSize, 5));
  const trainer = createTrainer({
    config: c.config,
    params,
    loss: { kind: 'sft' },
    schedule: { kind: 'constant', peakLr: 1e-4 },
    intraOpThreads: threads,
  });
  try {
    await trainer.trainStep([batch]); // warm-up: session creation and first-run allocations
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
  } finally {
    await trainer.close();
  }
}

async function main(): Promise<void> {
  const peak = await measureMatMulPeakGflops(threads);
  console.log(`matmul peak threads=${threads}: ${peak.toFixed(1)} GFLOP/s (1024^3 fp32, median of 9)`);
  for (const c of configs) await benchOne(c, peak);
  const peakAfter = await measureMatMulPeakGflops(threads);
  console.log(`matmul peak again after the runs: ${peakAfter.toFixed(1)} GFLOP/s (load drift check)`);
}

await main();
