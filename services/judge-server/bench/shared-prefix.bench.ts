// Shared-prefix judging: judgments/s of GRPO-shaped batches with the group key (each group's
// template + question prefilled once, only the answers run per item) against the same items
// without it (every prompt whole), through the engine call the batcher makes (createJudgeEngine →
// judge()). Batches of 32 = 4 questions × G = 8 answers, questions ~150 tokens, answers ~120
// tokens. Two models: a random ~32M-parameter Qwen3-shaped model (real Qwen3 tokenizer and chat
// template; q/k norm, GQA, tied 151,936-row vocabulary) and a random model of the toy judge's
// shape (toy tokenizer, plain template). Both paths alternate in one run; scores are compared.
// Also printed: the whole-prompt path on this judge graph (past-KV inputs fed empty) against the
// judge graph without them, so the baseline is not a slowed-down one. Ratios, never asserted.
// Run: npm run bench -w @verdict/judge-server
//   (VERDICT_BENCH_REPS, default 6 batches per path and model; VERDICT_BENCH_THREADS, default 1)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildLlamaJudgeGraph,
  type CausalLmConfig,
  createFamilyModel,
  createRandomLlamaWeights,
  type FamilyModel,
  type JudgeModel,
  type JudgeResult,
  type LlamaFamilyConfig,
  llamaGraphs,
  loadLlamaFamilyConfig,
  loadLlamaWeights,
  loadModelTokenizer,
  locateSharedDir,
  type ModelTokenizer,
  parseLlamaFamilyConfig,
} from '@verdict/models';
import { writeRandomToyModel } from '@verdict/recipes';
import { createJudgeEngine } from '../src/engine/judge-engine.js';

const REPS = Number(process.env['VERDICT_BENCH_REPS'] ?? 6);
const THREADS = Number(process.env['VERDICT_BENCH_THREADS'] ?? 1);
const GROUPS = 4;
const G = 8;
const QUESTION_TOKENS = 150;
const ANSWER_TOKENS = 120;

/** Seeded arithmetic text of at least `tokens` tokens (digits are single tokens in both tokenizers). */
function text(tokenizer: ModelTokenizer, tokens: number, seed: number, lead: string): string {
  let state = seed >>> 0;
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  let out = lead;
  while (tokenizer.encode(out, { addSpecialTokens: false }).length < tokens) {
    const a = next(90) + 10;
    const b = next(90) + 10;
    out += ` ${a} + ${b} = ${a + b} ,`;
  }
  return out;
}

interface Item {
  readonly question: string;
  readonly solution: string;
  readonly groupKey: string;
}

function grpoBatch(tokenizer: ModelTokenizer, round: number): Item[] {
  const items: Item[] = [];
  for (let q = 0; q < GROUPS; q++) {
    const question = text(tokenizer, QUESTION_TOKENS, 1000 * round + q, 'What is');
    for (let i = 0; i < G; i++) {
      const solution = text(tokenizer, ANSWER_TOKENS, 7919 * (1000 * round + q) + i, 'It is');
      items.push({ question, solution, groupKey: `r${round}q${q}` });
    }
  }
  return items;
}

interface PathTimes {
  shared: number;
  whole: number;
  maxDiff: number;
}

async function timeBoth(model: JudgeModel<CausalLmConfig>, template: 'auto' | 'plain'): Promise<PathTimes> {
  const engine = createJudgeEngine({ model, modelId: 'bench', defaultTemplate: template, maxBatchSize: 32 });
  const t = engine.defaultTemplate;
  const ungrouped = (items: Item[]) => items.map(({ groupKey: _, ...rest }) => rest);
  const warm = grpoBatch(model.tokenizer, 999);
  await engine.run(t, warm);
  await engine.run(t, ungrouped(warm));
  const times: PathTimes = { shared: 0, whole: 0, maxDiff: 0 };
  for (let r = 0; r < REPS; r++) {
    const items = grpoBatch(model.tokenizer, r);
    // Alternating order, so a burst of load on the shared machine hits both paths alike.
    const order = r % 2 === 0 ? (['shared', 'whole'] as const) : (['whole', 'shared'] as const);
    const results: Partial<Record<'shared' | 'whole', JudgeResult[]>> = {};
    for (const path of order) {
      const started = performance.now();
      results[path] = await engine.run(t, path === 'shared' ? items : ungrouped(items));
      times[path] += performance.now() - started;
    }
    results.shared!.forEach((s, i) => {
      const w = results.whole![i]!;
      times.maxDiff = Math.max(times.maxDiff, Math.abs(s.score - w.score));
    });
  }
  return times;
}

/** The whole-prompt path on the judge graph without past-KV inputs (the graph before shared-prefix judging). */
async function timeGraphWithoutPast(model: FamilyModel, bare: FamilyModel): Promise<number> {
  const engine = (m: FamilyModel) =>
    createJudgeEngine({ model: m, modelId: 'bench', defaultTemplate: 'auto', maxBatchSize: 32 });
  const [withPast, without] = [engine(model), engine(bare)];
  const ungrouped = (items: Item[]) => items.map(({ groupKey: _, ...rest }) => rest);
  const warm = ungrouped(grpoBatch(model.tokenizer, 999));
  await without.run(without.defaultTemplate, warm);
  await withPast.run(withPast.defaultTemplate, warm);
  let a = 0;
  let b = 0;
  for (let r = 0; r < Math.max(2, REPS / 2); r++) {
    const items = ungrouped(grpoBatch(model.tokenizer, r));
    let s = performance.now();
    await without.run(without.defaultTemplate, items);
    b += performance.now() - s;
    s = performance.now();
    await withPast.run(withPast.defaultTemplate, items);
    a += performance.now() - s;
  }
  return b / a;
}

function report(name: string, times: PathTimes): number {
  const n = REPS * GROUPS * G;
  const shared = (n / times.shared) * 1000;
  const whole = (n / times.whole) * 1000;
  console.log(
    `${name}: ${whole.toFixed(1)} judgments/s without sharing, ${shared.toFixed(1)} with shared prefixes ` +
      `(${(shared / whole).toFixed(2)}×); max |score difference| ${times.maxDiff.toExponential(2)}`,
  );
  return shared / whole;
}

function qwen3Shaped(): { config: LlamaFamilyConfig; model: FamilyModel; bare: FamilyModel; params: number } {
  const config = parseLlamaFamilyConfig({
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: 151_936,
    hidden_size: 192,
    intermediate_size: 576,
    num_hidden_layers: 6,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 64,
    rms_norm_eps: 1e-6,
    rope_theta: 1_000_000,
    max_position_embeddings: 1024,
    tie_word_embeddings: true,
    eos_token_id: 151_645,
  });
  const weights = createRandomLlamaWeights(config, 7, 1.5);
  const tokenizer = loadModelTokenizer(join(locateSharedDir(), 'tokenizers', 'qwen3'));
  const opts = { intraOpThreads: THREADS };
  const graphs = llamaGraphs(config, weights);
  const model = createFamilyModel(config, weights, tokenizer, graphs, opts);
  const bare = createFamilyModel(
    config,
    weights,
    tokenizer,
    { ...graphs, judge: () => buildLlamaJudgeGraph(config, weights), judgeTakesPast: false },
    opts,
  );
  let params = 0;
  for (const w of new Set(weights.values())) params += w.length;
  return { config, model, bare, params };
}

const qwen = qwen3Shaped();
const toyDir = mkdtempSync(join(tmpdir(), 'verdict-bench-toy-judge-'));
try {
  console.log(
    `shared-prefix bench: batches of ${GROUPS} questions × G = ${G} (questions ≥${QUESTION_TOKENS} tokens, answers ≥${ANSWER_TOKENS}), ` +
      `${REPS} batches per path, ${THREADS} ORT thread(s)`,
  );
  const whole = await timeGraphWithoutPast(qwen.model, qwen.bare);
  console.log(
    `Qwen3-shaped (${(qwen.params / 1e6).toFixed(1)}M params): whole-prompt path, judge graph with past-KV inputs ÷ without: ${whole.toFixed(2)}× the speed`,
  );
  await qwen.bare.close();
  const qwenSpeedUp = report(
    `Qwen3-shaped (${(qwen.params / 1e6).toFixed(1)}M params, chat template)`,
    await timeBoth(qwen.model, 'auto'),
  );
  await qwen.model.close();

  writeRandomToyModel(toyDir, {
    hiddenSize: 192,
    layers: 4,
    numHeads: 6,
    numKvHeads: 6,
    maxPositions: 512,
    seed: 3,
    scale: 1.5,
  });
  const toyConfig = loadLlamaFamilyConfig(toyDir);
  const toyWeights = loadLlamaWeights(toyDir, toyConfig);
  const toy = createFamilyModel(
    toyConfig,
    toyWeights,
    loadModelTokenizer(toyDir),
    llamaGraphs(toyConfig, toyWeights),
    {
      intraOpThreads: THREADS,
    },
  );
  report(
    'toy judge shape (hidden 192, 4 layers, toy tokenizer, plain template)',
    await timeBoth(toy, 'plain'),
  );
  await toy.close();
  console.log(`shared-prefix speed-up: ${qwenSpeedUp.toFixed(2)}×`);
} finally {
  rmSync(toyDir, { recursive: true, force: true });
}
