// Load curves of the judge-server (the toy judge's shape and a Qwen3-shaped random model of ~31M
// parameters) and of the policy-server (the toy student's shape): each server runs as its own process;
// the harness (bench/load/load-generator.ts) measures its capacity in a closed loop, then offers
// 0.25× … 4× of it in an open loop and records accepted throughput, p50/p99 latency of accepted calls,
// rejections by status code and the server's RSS per step. Prints one table per server and writes one
// self-contained HTML page (inline SVG charts), whose path it prints last.
//   npm run bench:load -w @verdict/e2e      (or: node --import tsx test/bench/load-curve.bench.ts)
//   env: LOAD_TARGETS (comma list of judge-toy, judge-qwen3, policy-toy; default all),
//        LOAD_MULTIPLIERS (default 0.25,0.5,1,1.5,2,3,4), LOAD_STEP_MS (default 3000),
//        LOAD_CAPACITY_MS (default 2000), LOAD_OUT (default .verdict/bench/load-curve),
//        LOAD_SERVER_LOG_LEVEL (default warn), and the servers' bounds below.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeToyTokenizer } from '@verdict/data';
import { llamaConfigToJson } from '@verdict/models';
import { toyLlamaConfig } from '@verdict/recipes';
import { QWEN3_0_6B_CONFIG, writeQwen3Tokenizer, writeRandomCheckpoint } from '../deploy/paper-models.js';
import { formatLoadCurve, type LoadCurve, runLoadCurve } from './load/load-generator.js';
import { type LoadPageEntry, renderLoadCurvePage } from './load/load-page.js';
import { type RunningTarget, startJudgeTarget, startPolicyTarget } from './load/targets.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MULTIPLIERS = (process.env.LOAD_MULTIPLIERS ?? '0.25,0.5,1,1.5,2,3,4').split(',').map(Number);
const STEP_MS = Number(process.env.LOAD_STEP_MS ?? 3000);
const CAPACITY_MS = Number(process.env.LOAD_CAPACITY_MS ?? 2000);
const OUT = resolve(repo, process.env.LOAD_OUT ?? '.verdict/bench/load-curve');
const TARGETS = (process.env.LOAD_TARGETS ?? 'judge-toy,judge-qwen3,policy-toy').split(',');

function withEnv(defaults: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, process.env[k] ?? v]));
}

// Both servers get the bounds of the judge-server's overload test (services/judge-server/test/
// overload.test.ts): batches of 16, 64 in flight (4 batches), so a 4× offered load must be mostly
// refused and an accepted call waits for a few batches at most.
// Each can be overridden from the environment (e.g. POLICY_MAX_PENDING_SEQUENCES=1024 for the default).
const JUDGE_ENV = withEnv({
  JUDGE_MAX_BATCH_SIZE: '16',
  JUDGE_MAX_QUEUE_ITEMS: '64',
  JUDGE_MAX_BATCH_WAIT: '5ms',
});
const JUDGE_ITEMS_PER_CALL = 8;
const POLICY_ENV = withEnv({
  POLICY_MAX_BATCH_SIZE: '16',
  POLICY_MAX_PENDING_SEQUENCES: '64',
  POLICY_MAX_BATCH_WAIT: '5ms',
});
const POLICY_CALL = { sequencesPerCall: 4, maxNewTokens: 32 };

/** The toy world's judge (libs/recipes FULL_WORLD_JUDGE dims) and student shapes, random weights. */
const TOY_JUDGE_DIMS = { hiddenSize: 192, numLayers: 4, numHeads: 6, intermediateSize: 512 };
const TOY_STUDENT_DIMS = { hiddenSize: 128, numLayers: 4, numHeads: 4, intermediateSize: 384 };

/** Qwen3 (real tokenizer, 151,936 ids, q/k norms, GQA, head_dim set) cut to ~31M parameters. */
const QWEN3_30M_CONFIG = {
  ...QWEN3_0_6B_CONFIG,
  hidden_size: 192,
  intermediate_size: 576,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 64,
  max_position_embeddings: 2048,
  tie_word_embeddings: true,
};

function writeToyShaped(dir: string, dims: typeof TOY_JUDGE_DIMS, seed: number): number {
  const params = writeRandomCheckpoint(dir, llamaConfigToJson(toyLlamaConfig(dims)), seed);
  writeToyTokenizer(dir);
  return params;
}

interface Plan {
  readonly key: string;
  readonly capacityConcurrency: number;
  start(workDir: string): Promise<{ target: RunningTarget; notes: string }>;
}

const mparams = (n: number) => `${(n / 1e6).toFixed(1)}M parameters`;

const PLANS: readonly Plan[] = [
  {
    key: 'judge-toy',
    capacityConcurrency: 6,
    async start(work) {
      const params = writeToyShaped(join(work, 'judge-toy'), TOY_JUDGE_DIMS, 11);
      const target = await startJudgeTarget(
        'judge-server, toy judge',
        join(work, 'judge-toy'),
        JUDGE_ENV,
        JUDGE_ITEMS_PER_CALL,
      );
      return {
        target,
        notes: `Toy judge shape (Llama, hidden 192, 4 layers, 6 heads, FFN 512, toy tokenizer; ${mparams(params)}, random weights). JudgeBatch of ${JUDGE_ITEMS_PER_CALL} items; ${envText(JUDGE_ENV)}.`,
      };
    },
  },
  {
    key: 'judge-qwen3',
    capacityConcurrency: 6,
    async start(work) {
      const dir = join(work, 'judge-qwen3');
      const params = writeRandomCheckpoint(dir, QWEN3_30M_CONFIG, 7);
      writeQwen3Tokenizer(dir);
      const target = await startJudgeTarget('judge-server, Qwen3 ~30M', dir, JUDGE_ENV, JUDGE_ITEMS_PER_CALL);
      return {
        target,
        notes: `Qwen3 shape (hidden 192, 4 layers, 4 heads / 2 KV heads, head_dim 64, FFN 576, tied 151,936-id embedding, the Qwen3 tokenizer; ${mparams(params)}, random weights). JudgeBatch of ${JUDGE_ITEMS_PER_CALL} items; ${envText(JUDGE_ENV)}.`,
      };
    },
  },
  {
    key: 'policy-toy',
    capacityConcurrency: 16,
    async start(work) {
      const params = writeToyShaped(join(work, 'policy-toy'), TOY_STUDENT_DIMS, 3);
      const target = await startPolicyTarget(
        'policy-server, toy student',
        join(work, 'policy-toy'),
        POLICY_ENV,
        POLICY_CALL,
      );
      return {
        target,
        notes: `Toy student shape (Llama, hidden 128, 4 layers, 4 heads, FFN 384, toy tokenizer; ${mparams(params)}, random weights). Generate of ${POLICY_CALL.sequencesPerCall} greedy samples × ≤ ${POLICY_CALL.maxNewTokens} new tokens; ${envText(POLICY_ENV)}.`,
      };
    },
  },
];

function envText(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

const context =
  `Measured ${new Date().toISOString()} on ${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? 'unknown'}), ` +
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} at the start; ${STEP_MS} ms per step, ` +
  `capacity measured for ${CAPACITY_MS} ms. Each server is a child process on 127.0.0.1; the load generator runs in the bench process.`;

const work = mkdtempSync(join(tmpdir(), 'verdict-load-'));
const entries: LoadPageEntry[] = [];
try {
  for (const plan of PLANS.filter((p) => TARGETS.includes(p.key))) {
    const { target, notes } = await plan.start(work);
    let curve: LoadCurve;
    try {
      process.stderr.write(`load curve: ${target.name} …\n`);
      curve = await runLoadCurve(target, {
        multipliers: MULTIPLIERS,
        stepMs: STEP_MS,
        capacityMs: CAPACITY_MS,
        capacityConcurrency: plan.capacityConcurrency,
        onStep: (s) =>
          process.stderr.write(
            `  ${s.multiplier}×: ${s.accepted}/${s.sent} accepted, p99 ${s.p99Ms.toFixed(0)} ms\n`,
          ),
      });
    } finally {
      await target.stop();
    }
    console.log(`${formatLoadCurve(curve)}\n`);
    entries.push({ curve, notes });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'index.html'), renderLoadCurvePage(entries, context));
writeFileSync(join(OUT, 'results.json'), `${JSON.stringify({ context, entries }, null, 2)}\n`);
for (const { curve } of entries) {
  console.log(
    `capacity ${curve.target}: ${curve.capacityUnitsPerS.toFixed(0)} ${curve.unit}/s closed loop, ${curve.reachedUnitsPerS.toFixed(0)} ${curve.unit}/s reached`,
  );
}
console.log(`load-curve page: ${join(OUT, 'index.html')}`);
