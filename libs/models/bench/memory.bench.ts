// Memory benchmark (issue 16): what an inference-only model holds after load, with and without
// `releaseWeightsAfterLoad`. A Qwen3-shaped random checkpoint (real vocabulary, tied head; about
// 300 MiB of float32 at the default size) is written once, then each case runs in a fresh process
// (so RSS and its peak belong to that case alone) loading it through loadModel, as the services do:
// the generation role (loadGenerationSessions, then one generate) and the judge role (one judge
// call loads the judge session, a second is measured). Both inline graphs (the default under
// 1.5 GiB of weights) and external-data files (`externalDataBytes: 0`: what a model over 1.5 GiB,
// e.g. an 8B judge, always gets). Prints MiB and release ÷ default ratios of the same run; never
// asserted. Phases: `loaded` after loadModel (weights in JS, no session), `sessions` once the role's
// sessions loaded, `called` after a generate / judge call on them.
// Run: node --import tsx bench/memory.bench.ts
//   (VERDICT_BENCH_HIDDEN, default 448; VERDICT_BENCH_LAYERS, default 4; the largest case peaks
//   near 3 GB of RSS at the default size, the inline generation role without the release)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createRandomLlamaWeights,
  type FamilyModel,
  generate,
  judge,
  type LoadModelOptions,
  llamaConfigToJson,
  loadModel,
  loadModelTokenizer,
  locateSharedDir,
  parseLlamaFamilyConfig,
  toWeightMap,
  writeSafetensors,
} from '../src/index.js';

const HIDDEN = Number(process.env['VERDICT_BENCH_HIDDEN'] ?? 448);
const LAYERS = Number(process.env['VERDICT_BENCH_LAYERS'] ?? 4);
const config = parseLlamaFamilyConfig({
  model_type: 'qwen3',
  vocab_size: 151_936,
  hidden_size: HIDDEN,
  intermediate_size: 3 * HIDDEN,
  num_hidden_layers: LAYERS,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 64,
  max_position_embeddings: 1024,
  tie_word_embeddings: true,
  eos_token_id: 151_645,
});

type Role = 'generation' | 'judge';
type Mode = 'default' | 'release';
interface Reading {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  external: number;
  /** Peak RSS of the process so far (VmHWM). */
  peak: number;
}
interface CaseResult {
  base: Reading; // before loadModel: node, tsx, the libraries, the tokenizer
  loaded: Reading; // after loadModel: the weights in JS, no session yet
  sessions: Reading; // after the role's sessions loaded
  called: Reading; // after a generate / judge call on loaded sessions
  weightBytesHeld: number;
}

const MiB = 2 ** 20;

function read(): Reading {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    arrayBuffers: m.arrayBuffers,
    external: m.external,
    peak: hwm ? Number(hwm[1]) * 1024 : Number.NaN,
  };
}

/** One case, in this (fresh) process: prints its CaseResult as JSON. */
async function runCase(dir: string, role: Role, mode: Mode, external: boolean): Promise<void> {
  const options: LoadModelOptions = {
    ...(mode === 'release' ? { releaseWeightsAfterLoad: role } : {}),
    ...(external ? { externalDataBytes: 0 } : {}),
  };
  // The tokenizer first (the Qwen3 one is ~50 MB of heap), so the baseline isolates the weights.
  const tokenizer = loadModelTokenizer(dir);
  const base = read();
  const model: FamilyModel = loadModel(dir, { ...options, tokenizer });
  const loaded = read();
  const items = [{ question: 'What is 2+2?', answer: '4' }];
  if (role === 'generation') await model.loadGenerationSessions();
  else await judge(model, items);
  const sessions = read();
  if (role === 'generation') await generate(model, ['The answer is'], { maxNewTokens: 8, temperature: 0 });
  else await judge(model, items);
  const called = read();
  const result: CaseResult = { base, loaded, sessions, called, weightBytesHeld: model.weightBytesHeld() };
  await model.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function writeCheckpoint(dir: string): void {
  writeSafetensors(join(dir, 'model.safetensors'), toWeightMap(config, createRandomLlamaWeights(config, 1)));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(llamaConfigToJson(config)));
  cpSync(join(locateSharedDir(), 'tokenizers', 'qwen3'), dir, { recursive: true });
}

function child(args: string[]): string {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', script, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`bench case ${args.join(' ')} exited with ${r.status}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-memory-bench-'));
  try {
    // The writer is a process of its own too, so this one stays small while the cases run.
    child(['write', dir]);
    const weightBytes = statSync(join(dir, 'model.safetensors')).size;
    console.log(
      `memory bench: Qwen3-shaped, hidden ${HIDDEN}, ${LAYERS} layers, vocab ${config.vocabSize}, tied; ` +
        `model.safetensors ${(weightBytes / MiB).toFixed(0)} MiB (float32)`,
    );
    const f = (n: number) => (n / MiB).toFixed(0).padStart(7);
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`.padStart(7);
    // Per case: RSS, RSS above the process before loadModel (what the model added), JS ArrayBuffers,
    // and the peak RSS so far above that same baseline.
    const cells = (x: Reading, base: Reading) =>
      `${f(x.rss)}${f(x.rss - base.rss)}${f(x.arrayBuffers)}${f(x.peak - base.rss)}`;
    for (const external of [false, true]) {
      for (const role of ['generation', 'judge'] as const) {
        const results = {} as Record<Mode, CaseResult>;
        for (const mode of ['default', 'release'] as const) {
          results[mode] = JSON.parse(child(['case', dir, role, mode, String(external)])) as CaseResult;
        }
        const d = results.default;
        const r = results.release;
        console.log(
          `\n${role} role, ${external ? 'external-data files (as over 1.5 GiB)' : 'inline graphs'} (MiB)`,
        );
        console.log(`  ${''.padEnd(9)}${'default'.padEnd(28)}${'release'.padEnd(28)}release ÷ default`);
        console.log(
          `  ${'phase'.padEnd(9)}${'    rss  +model arrBufs  +peak'.repeat(2)}    rss  +model arrBufs`,
        );
        for (const phase of ['loaded', 'sessions', 'called'] as const) {
          const [a, b] = [d[phase], r[phase]];
          console.log(
            `  ${phase.padEnd(9)}${cells(a, d.base)}${cells(b, r.base)}` +
              `${ratio(b.rss, a.rss)}${ratio(b.rss - r.base.rss, a.rss - d.base.rss)}${ratio(b.arrayBuffers, a.arrayBuffers)}`,
          );
        }
        console.log(
          `  weightBytesHeld after the call: default ${(d.weightBytesHeld / MiB).toFixed(0)} MiB, release ${(r.weightBytesHeld / MiB).toFixed(0)} MiB`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'write') writeCheckpoint(rest[0]!);
else if (command === 'case') await runCase(rest[0]!, rest[1] as Role, rest[2] as Mode, rest[3] === 'true');
else await main();
