// Engine benchmark (issue "Model engine"): judge throughput and its fraction of the FLOP bound,
// generation tokens/s at batch 1 and 16, for a ~30M-parameter Llama-shaped random model.
// Prints numbers measured in this one run; never asserted. Run: npm run bench -w @verdict/models
import { createGraph, createSession, createTensor, toOnnxModel } from '@verdict/graph';
import {
  createLlamaModel,
  createRandomLlamaWeights,
  generate,
  leftPadBatch,
  loadModelTokenizer,
  locateSharedDir,
  parseLlamaFamilyConfig,
} from '../src/index.js';

const THREADS = Number(process.env['VERDICT_BENCH_THREADS'] ?? 2);

async function matmulPeakGflops(): Promise<number> {
  const [m, k, n] = [8192, 512, 1376];
  const g = createGraph();
  const x = g.input('x', 'float32', ['m', k]);
  g.output('y', g.matmul(x, g.param('w', 'float32', [k, n], new Float32Array(k * n).fill(0.001))));
  const s = await createSession(toOnnxModel(g), { intraOpThreads: THREADS });
  const feeds = { x: createTensor('float32', [m, k], new Float32Array(m * k).fill(0.5)) };
  await s.run(feeds);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * m * k * n) / (best / 1000) / 1e9;
}

const config = parseLlamaFamilyConfig({
  model_type: 'llama',
  vocab_size: 8000,
  hidden_size: 512,
  intermediate_size: 1376,
  num_hidden_layers: 8,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  max_position_embeddings: 1024,
  tie_word_embeddings: true,
});
const weights = createRandomLlamaWeights(config, 1);
let nonEmbedding = 0;
let total = 0;
for (const [name, w] of weights) {
  total += w.length;
  if (!name.includes('embed_tokens')) nonEmbedding += w.length;
}
const peak = await matmulPeakGflops();
console.log(
  `model: ${(total / 1e6).toFixed(1)}M params (${(nonEmbedding / 1e6).toFixed(1)}M non-embedding), ${THREADS} intra-op threads`,
);
console.log(`ORT MatMul peak (8192x512 · 512x1376 initializer): ${peak.toFixed(1)} GFLOP/s`);

const tokenizer = loadModelTokenizer(`${locateSharedDir()}/fixtures/stories260k`); // only decodes here
const model = createLlamaModel(config, weights, tokenizer, { intraOpThreads: THREADS });
const rows = Array.from({ length: 32 }, (_, b) =>
  Array.from({ length: 256 }, (_, t) => (b * 7 + t * 13) % 8000),
);
const input = leftPadBatch(rows, 0);
await model.scoreLast(input, [1, 2]);
let best = Number.POSITIVE_INFINITY;
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await model.scoreLast(input, [1, 2]);
  best = Math.min(best, (performance.now() - t0) / 1000);
}
const judgeGflops = (2 * nonEmbedding * 32 * 256) / best / 1e9;
console.log(
  `judge (batch 32, prompt 256): ${(32 / best).toFixed(1)} judgments/s, ${judgeGflops.toFixed(1)} GFLOP/s = ${((100 * judgeGflops) / peak).toFixed(0)}% of the FLOP bound (target >= 50%)`,
);
for (const batch of [1, 16]) {
  const prompts = rows.slice(0, batch).map((r) => ({ ids: r.slice(0, 16) }));
  await generate(model, prompts, { maxNewTokens: 4, stopTokenIds: [] });
  const t0 = performance.now();
  await generate(model, prompts, { maxNewTokens: 64, stopTokenIds: [] });
  const s = (performance.now() - t0) / 1000;
  console.log(`generate (batch ${batch}, prompt 16, 64 new): ${((batch * 64) / s).toFixed(1)} tokens/s`);
}
console.log(
  'transformers.js comparison: not run — @huggingface/transformers is not installed in this workspace (see README).',
);
await model.close();
