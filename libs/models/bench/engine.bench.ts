// Engine benchmark (issue "Model engine"): judge throughput and its fraction of the FLOP bound,
// generation tokens/s at batch 1 and 16 against transformers.js running the ONNX file
// exportLlamaOnnx (`verdict export`) wrote, the effect of dropping finished rows, and the cost of
// stop-string checks, for a ~30M-parameter Llama-shaped random model.
// Prints numbers measured in this one run; never asserted. Run: npm run bench -w @verdict/models
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGraph, createSession, createTensor, toOnnxModel } from '@verdict/graph';
import {
  createIncrementalText,
  createLlamaModel,
  createRandomLlamaWeights,
  exportLlamaOnnx,
  generate,
  leftPadBatch,
  llamaConfigToJson,
  loadModelTokenizer,
  locateSharedDir,
  parseLlamaFamilyConfig,
  toWeightMap,
  writeSafetensors,
} from '../src/index.js';
import { loadTransformersJs } from './transformers-js.js';

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
const RUNS = 3;
const NEW_TOKENS = 64;
const PROMPT_LEN = 16;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
async function timedMs<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
}

// The model as a Hugging Face folder, exported exactly as `verdict export` does.
const storiesDir = `${locateSharedDir()}/fixtures/stories260k`;
const work = mkdtempSync(join(tmpdir(), 'verdict-bench-'));
const hfDir = join(work, 'hf');
mkdirSync(hfDir);
writeFileSync(join(hfDir, 'config.json'), JSON.stringify(llamaConfigToJson(config), null, 2));
writeSafetensors(join(hfDir, 'model.safetensors'), toWeightMap(config, weights));
for (const f of ['tokenizer.json', 'tokenizer_config.json'])
  copyFileSync(join(storiesDir, f), join(hfDir, f));
const exported = exportLlamaOnnx(hfDir, join(work, 'export'));
const tjs = await loadTransformersJs(exported.outDir, THREADS);
console.log(
  tjs.ok
    ? `transformers.js ${tjs.version}: loaded ${exported.outDir}/onnx/model.onnx (${(exported.onnxBytes / 1e6).toFixed(0)} MB, fp32, cpu, ${THREADS} intra-op threads)`
    : `transformers.js comparison not run: ${tjs.reason}`,
);

const greedy = { maxNewTokens: NEW_TOKENS, temperature: 0, stopTokenIds: [] as number[] };
let batch16Ids: number[][] = [];
for (const batch of [1, 16]) {
  const prompts = rows.slice(0, batch).map((r) => r.slice(0, PROMPT_LEN));
  // Warm-up runs (session creation, allocator growth), then interleaved timed runs.
  const ours = (
    await generate(
      model,
      prompts.map((ids) => ({ ids })),
      greedy,
    )
  ).map((g) => g.ids);
  const theirs = tjs.ok ? await tjs.generate(prompts, NEW_TOKENS) : undefined;
  if (batch === 16) batch16Ids = ours;
  const oursMs: number[] = [];
  const theirsMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    oursMs.push(
      (
        await timedMs(() =>
          generate(
            model,
            prompts.map((ids) => ({ ids })),
            greedy,
          ),
        )
      )[0],
    );
    if (tjs.ok) theirsMs.push((await timedMs(() => tjs.generate(prompts, NEW_TOKENS)))[0]);
  }
  const tokens = batch * NEW_TOKENS;
  const oursTps = tokens / (median(oursMs) / 1000);
  let line = `generate (batch ${batch}, prompt ${PROMPT_LEN}, ${NEW_TOKENS} new, greedy, median of ${RUNS}): verdict ${oursTps.toFixed(1)} tokens/s`;
  if (theirs !== undefined) {
    const theirsTps = tokens / (median(theirsMs) / 1000);
    const same = ours.reduce((n, row, b) => n + row.filter((id, k) => id === theirs[b]![k]).length, 0);
    const target = batch === 1 ? 'target >= 1.0x' : 'target >= 1.5x';
    line += `, transformers.js ${theirsTps.toFixed(1)} tokens/s = ${(oursTps / theirsTps).toFixed(2)}x (${target}); greedy tokens identical ${same}/${tokens}`;
  }
  console.log(line);
}
if (tjs.ok) await tjs.dispose();

// Rows that stop at different times: a stop id per row from its own greedy continuation.
const stopIds = [...new Set(batch16Ids.map((ids, b) => ids[Math.min(NEW_TOKENS - 1, 4 * b + 3)]!))];
const staggered = { ...greedy, stopTokenIds: stopIds };
const prompts16 = rows.slice(0, 16).map((r) => ({ ids: r.slice(0, PROMPT_LEN) }));
const compacted = await generate(model, prompts16, staggered);
const kept = await generate(model, prompts16, { ...staggered, compactFinishedRows: false });
const sameOut = compacted.every((g, b) => g.ids.join() === kept[b]!.ids.join());
const lengths = compacted.map((g) => g.ids.length);
const useful = lengths.reduce((a, b) => a + b, 0);
const onMs: number[] = [];
const offMs: number[] = [];
for (let i = 0; i < RUNS; i++) {
  onMs.push((await timedMs(() => generate(model, prompts16, staggered)))[0]);
  offMs.push(
    (await timedMs(() => generate(model, prompts16, { ...staggered, compactFinishedRows: false })))[0],
  );
}
console.log(
  `generate (batch 16, rows stop after ${Math.min(...lengths)}..${Math.max(...lengths)} tokens, ${useful} in all): finished rows dropped ${(useful / (median(onMs) / 1000)).toFixed(1)} tokens/s vs kept in the batch ${(useful / (median(offMs) / 1000)).toFixed(1)} tokens/s = ${(median(offMs) / median(onMs)).toFixed(2)}x; outputs identical: ${sameOut ? 'yes' : 'NO'}`,
);

// Stop-string checks: decoding the whole continuation after every token (before) vs only its tail.
const qwen3 = loadModelTokenizer(`${locateSharedDir()}/tokenizers/qwen3`); // ids < 8000 are valid here
const [fullMs] = await timedMs(async () => {
  for (const ids of batch16Ids) for (let n = 1; n <= ids.length; n++) qwen3.decode(ids.slice(0, n));
});
const [incMs] = await timedMs(async () => {
  for (const ids of batch16Ids) {
    const inc = createIncrementalText(qwen3);
    for (let n = 1; n <= ids.length; n++) inc.push(ids.slice(0, n));
  }
});
console.log(
  `stop-string check, ${batch16Ids.length}x${NEW_TOKENS} tokens (Qwen3 tokenizer): full re-decode ${fullMs.toFixed(1)} ms, incremental ${incMs.toFixed(1)} ms = ${(fullMs / incMs).toFixed(1)}x less (grows with length)`,
);
await model.close();
rmSync(work, { recursive: true, force: true });
