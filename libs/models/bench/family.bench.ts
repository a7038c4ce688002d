// Family benchmark (issue 16): generation and judge throughput of a Galactica-shaped OPT model next
// to a Llama-shaped one of the same size (hidden, layers, heads, FFN width, vocabulary; random
// weights), through the one engine both families run on (createFamilyModel). Prints OPT ÷ Llama
// ratios measured in this one run (rounds interleaved, median of RUNS); never asserted.
// Run: node --import tsx bench/family.bench.ts   (VERDICT_BENCH_THREADS, default 1; VERDICT_BENCH_RUNS, default 3)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createFamilyModel,
  createModelTokenizer,
  createRandomLlamaWeights,
  createRng,
  type FamilyModel,
  generate,
  judge,
  llamaFamily,
  locateSharedDir,
  optFamily,
  optWeightShapes,
  parseLlamaFamilyConfig,
  parseOptConfig,
} from '../src/index.js';
import { median, timedMs } from './compare-engines.js';

const THREADS = Number(process.env['VERDICT_BENCH_THREADS'] ?? 1);
const RUNS = Number(process.env['VERDICT_BENCH_RUNS'] ?? 3);
const PROMPT_LEN = 16;
const NEW_TOKENS = 32;
const JUDGE_ROWS = 16;

// Galactica-125M's width (OPT: 768 wide, 12 heads, FFN 3072, vocab 50,000, pre-LN, GELU, tied) at 4
// layers; the Llama twin has the same dimensions. Llama's SwiGLU FFN has three 768×3072 matrices to
// OPT's two, so at equal dimensions the Llama model is the larger one (printed below).
const DIMS = { hidden: 768, layers: 4, heads: 12, ffn: 3072, vocab: 50000, positions: 2048 };
const optConfig = parseOptConfig({
  model_type: 'opt',
  activation_function: 'gelu',
  do_layer_norm_before: true,
  hidden_size: DIMS.hidden,
  num_hidden_layers: DIMS.layers,
  num_attention_heads: DIMS.heads,
  ffn_dim: DIMS.ffn,
  vocab_size: DIMS.vocab,
  max_position_embeddings: DIMS.positions,
  word_embed_proj_dim: DIMS.hidden,
});
const llamaConfig = parseLlamaFamilyConfig({
  model_type: 'llama',
  hidden_size: DIMS.hidden,
  num_hidden_layers: DIMS.layers,
  num_attention_heads: DIMS.heads,
  num_key_value_heads: DIMS.heads,
  intermediate_size: DIMS.ffn,
  vocab_size: DIMS.vocab,
  max_position_embeddings: DIMS.positions,
  tie_word_embeddings: true,
});

function randomOptWeights(seed: number): Map<string, Float32Array> {
  const rng = createRng(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of optWeightShapes(optConfig)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const layerNorm = name.includes('layer_norm');
    const a = Math.sqrt(3 / (shape.length === 2 ? shape[1]! : shape[0]!));
    for (let i = 0; i < n; i++) {
      if (layerNorm) data[i] = name.endsWith('.weight') ? 1 + 0.2 * (rng.next() - 0.5) : 0;
      else data[i] = name.endsWith('.bias') ? 0.02 * (rng.next() * 2 - 1) : (rng.next() * 2 - 1) * a;
    }
    out.set(name, data);
  }
  return out;
}

/**
 * GPT-2's BPE (shared/tokenizers/gpt2) cut to the models' 50,000 ids: GPT-2 gives merge rank r the id
 * 256 + r, so the first 49,743 merges plus `<|endoftext|>` at id 49,999 (as test/deploy/paper-models.ts).
 */
function gpt2Tokenizer(vocabSize: number) {
  const src = join(locateSharedDir(), 'tokenizers', 'gpt2');
  const encoder = JSON.parse(readFileSync(join(src, 'encoder.json'), 'utf8')) as Record<string, number>;
  const eos = '<|endoftext|>';
  const vocab: Record<string, number> = {};
  for (const [token, id] of Object.entries(encoder)) if (id < vocabSize - 1) vocab[token] = id;
  vocab[eos] = vocabSize - 1;
  const merges = readFileSync(join(src, 'vocab.bpe'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const json = {
    version: '1.0',
    added_tokens: [
      {
        id: vocabSize - 1,
        content: eos,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: merges.slice(0, vocabSize - 257),
    },
  };
  return createModelTokenizer(json, { bos_token: eos, eos_token: eos });
}
const tokenizer = gpt2Tokenizer(DIMS.vocab);
const optWeights = randomOptWeights(1);
const llamaWeights = createRandomLlamaWeights(llamaConfig, 1);
const paramCount = (w: ReadonlyMap<string, Float32Array>) =>
  [...w.values()].reduce((s, x) => s + x.length, 0);
const options = { intraOpThreads: THREADS };
const models: { name: string; model: FamilyModel<never> | FamilyModel }[] = [
  {
    name: 'opt',
    model: createFamilyModel(
      optConfig,
      optWeights,
      tokenizer,
      optFamily.graphs(optConfig, optWeights),
      options,
    ),
  },
  {
    name: 'llama',
    model: createFamilyModel(
      llamaConfig,
      llamaWeights,
      tokenizer,
      llamaFamily.graphs(llamaConfig, llamaWeights),
      options,
    ),
  },
];
console.log(
  `models: OPT ${(paramCount(optWeights) / 1e6).toFixed(1)}M params, Llama ${(paramCount(llamaWeights) / 1e6).toFixed(1)}M ` +
    `(hidden ${DIMS.hidden}, ${DIMS.layers} layers, ${DIMS.heads} heads, FFN ${DIMS.ffn}, vocab ${DIMS.vocab}); ` +
    `${THREADS} intra-op thread(s), median of ${RUNS} interleaved rounds after a warm-up`,
);

const rng = createRng(7);
const prompt = () => Array.from({ length: PROMPT_LEN }, () => 100 + Math.floor(rng.next() * 40000));
const greedy = { maxNewTokens: NEW_TOKENS, temperature: 0, stopTokenIds: [] as number[] };
const judgeItems = Array.from({ length: JUDGE_ROWS }, (_, i) => ({
  question: `Question ${i}: a farmer has ${12 + i} cows and buys ${3 * i} more. How many cows does the farmer have now?`,
  answer: `The farmer had ${12 + i} cows and bought ${3 * i}, so ${12 + i} + ${3 * i} = ${12 + 4 * i}. The answer is ${12 + 4 * i}.`,
}));

type Case = { name: string; units: number; unit: string; run: (m: FamilyModel) => Promise<unknown> };
const cases: Case[] = [1, 16].map((batch) => {
  const prompts = Array.from({ length: batch }, () => ({ ids: prompt() }));
  return {
    name: `generate batch ${batch} (prompt ${PROMPT_LEN}, ${NEW_TOKENS} new, greedy)`,
    units: batch * NEW_TOKENS,
    unit: 'tokens/s',
    run: (m: FamilyModel) => generate(m, prompts, greedy),
  };
});
cases.push({
  name: `judge ${JUDGE_ROWS} rows (plain template)`,
  units: JUDGE_ROWS,
  unit: 'rows/s',
  run: (m: FamilyModel) => judge(m, judgeItems, { template: 'plain', maxBatchSize: JUDGE_ROWS }),
});

for (const c of cases) {
  for (const { model } of models) await c.run(model as FamilyModel); // warm-up: sessions load here
  const times = models.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) {
    for (const [k, { model }] of models.entries())
      times[k]!.push((await timedMs(() => c.run(model as FamilyModel)))[0]);
  }
  const rates = times.map((t) => c.units / (median(t) / 1000));
  console.log(
    `${c.name}: OPT ${rates[0]!.toFixed(1)} ${c.unit}, Llama ${rates[1]!.toFixed(1)} ${c.unit}, OPT ÷ Llama = ${(rates[0]! / rates[1]!).toFixed(2)}x`,
  );
}
for (const { model } of models) await model.close();
