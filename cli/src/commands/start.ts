import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ArmSummary, ClaimCheck, GuardAction } from '@verdict/recipes';
import { defineCommand } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';

/** `VERDICT_CACHE_DIR`, else `~/.cache/verdict` (the CLI reads the environment; libs take options). */
function defaultCacheDir(): string {
  const env = process.env['VERDICT_CACHE_DIR'];
  return env !== undefined && env !== '' ? env : join(homedir(), '.cache', 'verdict');
}

interface StartResult {
  budget: string;
  seeds: number[];
  transport: string;
  seconds: number;
  table: string;
  claim: ClaimCheck | null;
  /** The claim and the guard in words (`describeClaim`). */
  claimText: string;
  designHash: string | undefined;
  summary: readonly ArmSummary[];
  runs: { runId: string; status: string; steps: number; alarmStep: number | null; seconds: number }[];
  files: { json: string; html: string; table: string };
}

export default defineCommand({
  name: 'start',
  summary:
    'the main job: the label-free distillation experiment in the toy world (SFT, RLVR, VR + judge, judge-only, weak judge) through the real services',
  flags: {
    quick: { type: 'boolean', description: 'a small version (tiny toy world, 3 steps per arm; ≤ 3 minutes)' },
    full: {
      type: 'boolean',
      description:
        "the paper's whole table (adds PPO and the ρ arms to the claim's arms) × 3 seeds unless --seeds says otherwise",
    },
    seeds: {
      type: 'int',
      min: 1,
      max: 20,
      description: 'seeds per arm (mean ± spread over them; default 1, 3 with --full)',
    },
    seed: {
      type: 'int',
      default: 0,
      min: 0,
      max: 1_000_000,
      description: 'first seed (seeds are seed..seed+N-1)',
    },
    arms: {
      type: 'string',
      description: 'comma-separated arm ids to run (SFT always runs); default the arms the claim needs',
    },
    steps: { type: 'int', min: 1, max: 10_000, description: 'RL steps per arm (default: the preset)' },
    labeledProblems: {
      type: 'int',
      min: 1,
      max: 100_000,
      description:
        'labeled pool size (default: the preset); a probe control — a larger pool repeats each problem less often',
    },
    guardAction: {
      type: 'string',
      choices: ['alarm', 'stop', 'lower-mu'],
      description: 'what the reward-hacking guard does on alarm (default: stop)',
    },
    outDir: { type: 'string', description: 'results folder (default .verdict/experiment/<quick|default>)' },
    cacheDir: {
      type: 'string',
      description: 'toy world cache root (default $VERDICT_CACHE_DIR or ~/.cache/verdict)',
    },
    toyWorld: {
      type: 'string',
      description: 'use this prepared toy world folder (<cache>/toy/<hash>) instead of the current recipe',
    },
    transport: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'memory', 'nats'],
      description: 'messaging: the in-process mem:// transport (auto) or a nats-server it starts',
    },
    threads: {
      type: 'int',
      default: 2,
      min: 1,
      max: 64,
      description: 'ORT threads for the toy world preparation',
    },
    verbose: { type: 'boolean', description: 'service logs at info level (default warn)' },
  },
  async run(flags, ctx): Promise<StartResult> {
    const { describeClaim, experimentArms, experimentConfig, selectArms } = await import('@verdict/recipes');
    const { runExperiment } = await import('../experiment/run-experiment.js');
    const budget = flags.quick ? 'quick' : 'default';
    const preset = experimentConfig(budget);
    const config = experimentConfig(budget, {
      ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
      ...(flags.labeledProblems !== undefined ? { labeledProblems: flags.labeledProblems } : {}),
      ...(flags.guardAction !== undefined
        ? { guard: { ...preset.guard, action: flags.guardAction as GuardAction } }
        : {}),
    });
    let arms: ReturnType<typeof experimentArms>;
    try {
      arms = selectArms(
        experimentArms(config),
        flags.arms
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        // The quick version is a smoke run of every row of the table (PPO and ρ included).
        { full: flags.full === true || flags.quick === true },
      );
    } catch (error) {
      throw new UsageError(`--arms: ${(error as Error).message}`);
    }
    const seedCount = flags.seeds ?? (flags.full ? 3 : 1);
    const seeds = Array.from({ length: seedCount }, (_, i) => flags.seed + i);
    const outDir = resolve(flags.outDir ?? join('.verdict', 'experiment', budget));
    ctx.progress(
      `verdict start (${budget}): ${arms.length} arms × ${seeds.length} seed(s), ${config.steps} RL steps per arm → ${outDir}`,
    );
    const out = await runExperiment({
      config,
      arms,
      seeds,
      outDir,
      cacheDir: resolve(flags.cacheDir ?? defaultCacheDir()),
      ...(flags.toyWorld !== undefined ? { toyWorldDir: resolve(flags.toyWorld) } : {}),
      transport: flags.transport as 'auto' | 'memory' | 'nats',
      threads: flags.threads,
      logLevel: flags.verbose ? 'info' : 'warn',
      progress: (line) => ctx.progress(line),
    });
    return {
      budget,
      seeds,
      transport: out.transport,
      seconds: out.seconds,
      table: out.table,
      claim: out.result.claim ?? null,
      claimText: describeClaim(out.result.claim),
      designHash: out.result.designHash,
      summary: out.result.summary,
      runs: out.result.runs.map((r) => ({
        runId: r.runId,
        status: r.status,
        steps: r.steps,
        alarmStep: r.alarmStep,
        seconds: r.seconds,
      })),
      files: out.files,
    };
  },
  format: (r) => {
    const s = r as StartResult;
    return [
      s.table,
      '',
      s.claimText,
      '',
      `report: ${s.files.html}`,
      `json:   ${s.files.json}`,
      `${s.seconds.toFixed(0)} s (${s.transport})`,
    ].join('\n');
  },
});
