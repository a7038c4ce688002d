import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { RewardHackingMonitorSnapshot } from '@verdict/rl';
import { loadTrainingCheckpoint, type TrainingCheckpoint } from '@verdict/rl';
import type { StepMetricsRecord } from '../domain/step-metrics.js';
import { runConfigToJson, type ValidRunConfig } from '../run-config/run-config.js';

/** Learner state saved with every checkpoint (in trainer_state.json `extra`). */
export interface LearnerState {
  readonly runId: string;
  /** Last completed step. */
  readonly step: number;
  /** Weights version after that step. */
  readonly weightsVersion: number;
  /** Rollout ids consumed or dropped so far (idempotency across restarts). */
  readonly seenIds: readonly string[];
  /** Question sampling is a pure function of (seed, step): this is the whole RNG state. */
  readonly rng: { readonly seed: number; readonly nextStep: number };
  /** The reward-hacking monitor after the steps before this one (absent in older checkpoints). */
  readonly monitor?: RewardHackingMonitorSnapshot;
  /** This step's metrics before its finish phase (evaluation, monitor), to finish it on resume. */
  readonly draft?: StepMetricsRecord;
}

export interface LatestPointer {
  readonly step: number;
  readonly dir: string;
}

function atomicWrite(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * A run directory: `run-config.json`, `metrics.jsonl` (one StepMetrics per line), and
 * `checkpoints/step-N/` (a Hugging Face model folder + optimizer state + learner state) with
 * `checkpoints/latest.json` pointing at the newest complete one. A checkpoint is written into a
 * temp folder, renamed into place, and only then does `latest.json` (itself renamed atomically)
 * move — so a crash at any point leaves the previous checkpoint valid.
 */
export class RunStore {
  readonly dir: string;
  readonly checkpointsDir: string;
  readonly metricsPath: string;

  constructor(runsRoot: string, runId: string) {
    this.dir = join(runsRoot, runId);
    this.checkpointsDir = join(this.dir, 'checkpoints');
    this.metricsPath = join(this.dir, 'metrics.jsonl');
    mkdirSync(this.checkpointsDir, { recursive: true });
  }

  /** In the run file format (proto3 JSON), so `loadRunConfigFile` reads it back. */
  writeConfig(config: ValidRunConfig): void {
    atomicWrite(join(this.dir, 'run-config.json'), `${JSON.stringify(runConfigToJson(config), null, 2)}\n`);
  }

  latest(): LatestPointer | undefined {
    const p = join(this.checkpointsDir, 'latest.json');
    if (!existsSync(p)) return undefined;
    return JSON.parse(readFileSync(p, 'utf8')) as LatestPointer;
  }

  /** Loads the newest checkpoint: params, optimizer state and the learner state. */
  loadLatest(): { checkpoint: TrainingCheckpoint; state: LearnerState; dir: string } | undefined {
    const latest = this.latest();
    if (latest === undefined) return undefined;
    const dir = join(this.checkpointsDir, latest.dir);
    const checkpoint = loadTrainingCheckpoint(dir);
    const state = checkpoint.extra?.['learner'] as LearnerState | undefined;
    if (state === undefined) throw new Error(`${dir}: checkpoint has no learner state`);
    return { checkpoint, state, dir };
  }

  /** Writes a checkpoint via `write(tmpDir)`, publishes it as latest, prunes older ones. Returns its dir. */
  commitCheckpoint(step: number, write: (dir: string) => void): string {
    const name = `step-${String(step).padStart(6, '0')}`;
    const tmp = join(this.checkpointsDir, `.tmp-${name}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    write(tmp);
    const final = join(this.checkpointsDir, name);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    atomicWrite(join(this.checkpointsDir, 'latest.json'), `${JSON.stringify({ step, dir: name })}\n`);
    for (const entry of readdirSync(this.checkpointsDir)) {
      if (entry !== name && (entry.startsWith('step-') || entry.startsWith('.tmp-'))) {
        rmSync(join(this.checkpointsDir, entry), { recursive: true, force: true });
      }
    }
    return final;
  }

  /** True when the run's latest checkpoint is at its configured max steps (nothing left to consume). */
  static isCompleted(runsRoot: string, runId: string): boolean {
    const dir = join(runsRoot, runId);
    try {
      const latest = JSON.parse(
        readFileSync(join(dir, 'checkpoints', 'latest.json'), 'utf8'),
      ) as LatestPointer;
      const config = JSON.parse(readFileSync(join(dir, 'run-config.json'), 'utf8')) as { maxSteps?: number };
      return config.maxSteps !== undefined && latest.step >= config.maxSteps;
    } catch {
      return false;
    }
  }

  appendMetrics(m: StepMetricsRecord): void {
    appendFileSync(this.metricsPath, `${JSON.stringify(m)}\n`);
  }

  /** Metrics of completed steps up to `maxStep` (lines of steps undone by a crash are skipped). */
  readMetrics(maxStep = Number.POSITIVE_INFINITY): StepMetricsRecord[] {
    if (!existsSync(this.metricsPath)) return [];
    const byStep = new Map<number, StepMetricsRecord>();
    for (const line of readFileSync(this.metricsPath, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const m = JSON.parse(line) as StepMetricsRecord;
        if (m.step <= maxStep) byStep.set(m.step, m);
      } catch {
        // A torn last line after a crash: ignore it.
      }
    }
    return [...byStep.values()].sort((a, b) => a.step - b.step);
  }
}
