// The RL step through the embedded stack (`verdict up` on the in-process transport: all five services
// in one process), measured against the same step on the commit before the RL-loop rebuild, in one run.
// Student and judge have the toy world's shapes (random weights: every rollout runs to its token cap,
// the worst case for generation). Per step the learner reports its phase breakdown (generate, judge,
// reward, score, reference, update, checkpoint, weight hand-over, messaging, idle); this bench prints
// the medians over the measured steps (the first step warms sessions up and is left out).
//   npm run bench -w @verdict/e2e      (or: node --import tsx test/bench/step.bench.ts)
//   env: BENCH_STEPS (measured steps, default 4), BENCH_BASE_COMMIT (default below),
//        BENCH_BASE=0 skips the base run (no speed-up line then),
//        BENCH_BEHAVIOUR=recompute|rollout (default recompute): the current tree's behaviourLogprobs
//        (rollout: the rollout engine's log-probs, no scoring pass; the base tree always recomputes).
//        Recompute is the default because it is the faster here: its scoring pass runs beside the
//        KL metric's reference forward on the pool's other worker, and without it the reference is
//        on the critical path (8 × 8, 2026-12-07: 2269 ms per step recomputing, 2536 ms with rollout)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { learnerV1 } from '@verdict/proto';
import { writeRandomToyModel } from '@verdict/recipes';
import { runSteps, type StepRun } from './step-run.js';

/** The commit before the RL-loop rebuild (issue 14): its `verdict up` is the baseline. */
const BASE_COMMIT = process.env.BENCH_BASE_COMMIT ?? 'b3eaf94';
const MEASURED = Number(process.env.BENCH_STEPS ?? 4);
const MAX_NEW_TOKENS = 96;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The current tree's behaviour log-probs (the base tree predates the field and always scores). */
function behaviourFromEnv(): Partial<learnerV1.RunConfig> {
  const v = process.env.BENCH_BEHAVIOUR ?? 'recompute';
  const { BehaviourLogprobs } = learnerV1;
  if (v === 'rollout') return { behaviourLogprobs: BehaviourLogprobs.BEHAVIOUR_LOGPROBS_ROLLOUT };
  if (v === 'recompute') return { behaviourLogprobs: BehaviourLogprobs.BEHAVIOUR_LOGPROBS_RECOMPUTE };
  throw new Error(`BENCH_BEHAVIOUR must be rollout or recompute (got ${JSON.stringify(v)})`);
}
const BEHAVIOUR = behaviourFromEnv();

const PHASES = [
  'generate',
  'judge',
  'reward',
  'score',
  'reference',
  'update',
  'checkpoint',
  'weightHandover',
  'messaging',
  'idle',
] as const;
/** The model work of a step; the rest (checkpoint, hand-over, messaging, idle) is the loop's overhead. */
const COMPUTE = new Set(['generate', 'judge', 'reward', 'score', 'reference', 'update']);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function totalMs(step: Record<string, unknown>): number {
  return (step['timings'] as { totalMs: number }).totalMs;
}

function phasesOf(step: Record<string, unknown>): Record<string, number> {
  const p = step['phases'] as Record<string, number> | undefined;
  if (p === undefined) throw new Error(`step ${String(step['step'])} has no phase breakdown`);
  return p;
}

/** A worktree of the base commit with its own node_modules (npm ci from the local cache). */
function baseTree(): string {
  const dir = join(repo, '.verdict', 'bench', `base-${BASE_COMMIT}`);
  if (!existsSync(join(dir, 'package.json'))) {
    execFileSync('git', ['-C', repo, 'worktree', 'add', '--detach', '--force', dir, BASE_COMMIT], {
      stdio: 'inherit',
    });
  }
  if (!existsSync(join(dir, 'node_modules'))) {
    process.stderr.write(`step bench: npm ci in ${dir}\n`);
    execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    });
  }
  return dir;
}

const work = mkdtempSync(join(tmpdir(), 'verdict-step-bench-'));
const studentDir = writeRandomToyModel(join(work, 'student'), {
  hiddenSize: 128,
  layers: 4,
  numHeads: 4,
  numKvHeads: 4,
  maxPositions: 512,
  seed: 3,
});
const judgeDir = writeRandomToyModel(join(work, 'judge'), {
  hiddenSize: 192,
  layers: 4,
  numHeads: 6,
  numKvHeads: 6,
  maxPositions: 512,
  seed: 11,
  scale: 1.5,
});

/** Prints the median of each phase and the wall time; returns the medians of wall and compute. */
function printPhases(title: string, steps: readonly Record<string, unknown>[]) {
  const wall = median(steps.map(totalMs));
  const compute = median(
    steps.map((s) => PHASES.filter((p) => COMPUTE.has(p)).reduce((a, p) => a + (phasesOf(s)[p] ?? 0), 0)),
  );
  console.log(`\nphase breakdown, ${title} (median ms per step)`);
  for (const p of PHASES) {
    const ms = median(steps.map((s) => phasesOf(s)[p] ?? 0));
    console.log(`  ${p.padEnd(15)} ${ms.toFixed(0).padStart(7)}${COMPUTE.has(p) ? '  compute' : ''}`);
  }
  console.log(`  ${'compute'.padEnd(15)} ${compute.toFixed(0).padStart(7)}`);
  console.log(`  ${'wall'.padEnd(15)} ${wall.toFixed(0).padStart(7)}`);
  return { wall, compute };
}

async function run(label: string, treeDir: string, prompts: number, extra?: Partial<learnerV1.RunConfig>) {
  const t0 = performance.now();
  process.stderr.write(`step bench: ${label} (${prompts} prompts × G=8, ${1 + MEASURED} steps) ...\n`);
  const r: StepRun = await runSteps({
    treeDir,
    workDir: join(work, label.replace(/\W+/g, '-')),
    studentDir,
    judgeDir,
    promptsPerStep: prompts,
    groupSize: 8,
    maxNewTokens: MAX_NEW_TOKENS,
    steps: 1 + MEASURED,
    ...(extra ? { extra } : {}),
  });
  process.stderr.write(`step bench: ${label} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return r.steps.slice(1);
}

try {
  console.log(
    `step bench: ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(`behaviour log-probs (current tree): ${process.env.BENCH_BEHAVIOUR ?? 'recompute'}`);
  const seq16 = await run('current 16x8 sequential', repo, 16, BEHAVIOUR);
  const { wall: wall16, compute: compute16 } = printPhases('16 prompts × G=8, sequential', seq16);
  const piped = await run('current 16x8 pipelined', repo, 16, {
    ...BEHAVIOUR,
    generateAhead: true,
    stalenessBound: 1,
  });
  console.log(
    `pipelined (generate s+1 while s trains): ${median(piped.map(totalMs)).toFixed(0)} ms per step`,
  );
  const cur8 = await run('current 8x8 sequential', repo, 8, BEHAVIOUR);
  const { wall: wallCur8 } = printPhases('8 prompts × G=8, sequential', cur8);
  let speedUp: number | undefined;
  if (process.env.BENCH_BASE !== '0') {
    const base8 = await run(`base ${BASE_COMMIT} 8x8`, baseTree(), 8);
    const wallBase8 = median(base8.map(totalMs));
    speedUp = wallBase8 / wallCur8;
    console.log(
      `8 prompts × G=8: base ${wallBase8.toFixed(0)} ms, current ${wallCur8.toFixed(0)} ms per step`,
    );
  }
  console.log(`step wall/compute: ${(wall16 / compute16).toFixed(2)}`);
  if (speedUp !== undefined) console.log(`step speed-up vs base: ${speedUp.toFixed(2)}×`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
