// Decode-path benchmark: createLlamaModel with the Concat KV-cache graph on every step
// (minBufferedPositions: Infinity) vs its default (KV buffers from 2048 positions over the batch: the
// cache stays in JS-owned buffers, the graph returns only new keys/values) vs buffers from the first
// decode step (minBufferedPositions: 0) vs transformers.js on the exported ONNX; greedy generation at batch 1 and 16 with 16-token prompts
// (engine.bench.ts's setting) and with 256-token prompts, same 27M-parameter model,
// measured in one run (interleaved rounds). Prints numbers; never asserted.
// Run: node --import tsx libs/models/bench/decode.bench.ts   (VERDICT_BENCH_THREADS, default 2)
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CausalLm,
  createLlamaModel,
  createRandomLlamaWeights,
  exportLlamaOnnx,
  generate,
  llamaConfigToJson,
  loadModelTokenizer,
  locateSharedDir,
  toWeightMap,
  writeSafetensors,
} from '../src/index.js';
import { BENCH_LLAMA_CONFIG, compareEngines, type Engine, identicalTokens } from './compare-engines.js';
import { loadTransformersJs } from './transformers-js.js';

const THREADS = Number(process.env['VERDICT_BENCH_THREADS'] ?? 2);
const RUNS = Number(process.env['VERDICT_BENCH_RUNS'] ?? 3);
const NEW_TOKENS = 64;
const CASES = [
  { batch: 1, promptLen: 16 },
  { batch: 16, promptLen: 16 },
  { batch: 1, promptLen: 256 },
  { batch: 16, promptLen: 256 },
];

const config = BENCH_LLAMA_CONFIG;
const weights = createRandomLlamaWeights(config, 1);
const storiesDir = `${locateSharedDir()}/fixtures/stories260k`;
const tokenizer = loadModelTokenizer(storiesDir); // only decodes here
const rows = Array.from({ length: 16 }, (_, b) =>
  Array.from({ length: 256 }, (_, t) => (b * 7 + t * 13) % 8000),
);

const work = mkdtempSync(join(tmpdir(), 'verdict-decode-bench-'));
const hfDir = join(work, 'hf');
mkdirSync(hfDir);
writeFileSync(join(hfDir, 'config.json'), JSON.stringify(llamaConfigToJson(config), null, 2));
writeSafetensors(join(hfDir, 'model.safetensors'), toWeightMap(config, weights));
for (const f of ['tokenizer.json', 'tokenizer_config.json'])
  copyFileSync(join(storiesDir, f), join(hfDir, f));
const exported = exportLlamaOnnx(hfDir, join(work, 'export'));

const greedy = { maxNewTokens: NEW_TOKENS, temperature: 0, stopTokenIds: [] as number[] };
const ours = (m: CausalLm) => async (prompts: readonly number[][]) =>
  (
    await generate(
      m,
      prompts.map((ids) => ({ ids })),
      greedy,
    )
  ).map((g) => g.ids);
const models: CausalLm[] = [];
const keep = <M extends CausalLm>(m: M): M => {
  models.push(m);
  return m;
};
const variants = [
  { label: 'concat  ', minBufferedPositions: Number.POSITIVE_INFINITY },
  { label: 'default ', minBufferedPositions: undefined },
  { label: 'buffers0', minBufferedPositions: 0 },
];
const engines: Engine[] = variants.flatMap(({ label, minBufferedPositions }) => {
  const o = minBufferedPositions === undefined ? {} : { minBufferedPositions };
  return [
    {
      name: `${label} ${THREADS} replicas x 1 thread`,
      ours: true,
      run: ours(
        keep(createLlamaModel(config, weights, tokenizer, { ...o, intraOpThreads: 1, replicas: THREADS })),
      ),
    },
    {
      name: `${label} 1 session x ${THREADS} threads`,
      ours: true,
      run: ours(keep(createLlamaModel(config, weights, tokenizer, { ...o, intraOpThreads: THREADS }))),
    },
  ];
});
const tjsEngines = [];
for (const threads of [...new Set([THREADS, 1])]) {
  const tjs = await loadTransformersJs(exported.outDir, threads);
  if (!tjs.ok) {
    console.log(`transformers.js comparison not run: ${tjs.reason}`);
    break;
  }
  tjsEngines.push(tjs);
  engines.push({
    name: `transformers.js ${threads} thread(s)`,
    ours: false,
    run: (p) => tjs.generate(p, NEW_TOKENS),
  });
}
console.log(
  `model: 8 layers, hidden 512, 8 heads / 4 KV heads, vocab 8000; greedy, ${NEW_TOKENS} new tokens; median of ${RUNS} interleaved rounds after a warm-up`,
);
for (const { batch, promptLen } of CASES) {
  const prompts = rows.slice(0, batch).map((r) => r.slice(0, promptLen));
  const results = await compareEngines(engines, prompts, RUNS);
  console.log(`batch ${batch}, prompt ${promptLen}:`);
  for (const r of results) {
    const same = identicalTokens(results[0]!.ids, r.ids);
    console.log(
      `  ${r.name}: ${((batch * NEW_TOKENS) / (r.medianMs / 1000)).toFixed(1)} tokens/s, ${(r.medianCpuMs / (batch * NEW_TOKENS)).toFixed(2)} CPU-ms/token, ids = concat: ${same}/${batch * NEW_TOKENS}`,
    );
  }
  const best = (prefix: string) =>
    Math.min(...results.filter((r) => r.name.startsWith(prefix)).map((r) => r.medianMs));
  const concat = best('concat');
  const byDefault = best('default');
  const buffers0 = best('buffers0');
  const line = [
    `  => vs concat (best): default ${(concat / byDefault).toFixed(2)}x, buffers0 ${(concat / buffers0).toFixed(2)}x`,
  ];
  if (tjsEngines.length > 0) {
    const tjs = best('transformers.js');
    line.push(
      `vs transformers.js (best): concat ${(tjs / concat).toFixed(2)}x, default ${(tjs / byDefault).toFixed(2)}x, buffers0 ${(tjs / buffers0).toFixed(2)}x`,
    );
  }
  console.log(line.join('; '));
}
for (const tjs of tjsEngines) await tjs.dispose();
for (const m of models) await m.close();
rmSync(work, { recursive: true, force: true });
