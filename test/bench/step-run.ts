import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { learnerV1 } from '@verdict/proto';
import { createGrpcClient } from '@verdict/runtime';

/** What one tree's run of the step benchmark measured: every step's metrics line, as the learner wrote it. */
export interface StepRun {
  readonly steps: readonly Record<string, unknown>[];
}

export interface StepRunOptions {
  /** Repository root whose `verdict up` serves the run (this checkout or a worktree of the base commit). */
  readonly treeDir: string;
  readonly workDir: string;
  readonly studentDir: string;
  readonly judgeDir: string;
  readonly promptsPerStep: number;
  readonly groupSize: number;
  readonly maxNewTokens: number;
  readonly steps: number;
  /** Extra RunConfig fields (new ones are unknown to an older tree's decoder and skipped there). */
  readonly extra?: Partial<learnerV1.RunConfig>;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, child: ChildProcess) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (child.exitCode !== null) throw new Error(`verdict up exited (${child.exitCode}) before ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts `verdict up` of `treeDir` on the in-process transport (the embedded stack: all five services in
 * one process), runs one GRPO run of `steps` steps through its learner's StartRun, and returns the
 * learner's per-step metrics. The same contract (learner.proto) drives the base and the current tree.
 */
export async function runSteps(o: StepRunOptions): Promise<StepRun> {
  const child = spawn(
    process.execPath,
    [
      join(o.treeDir, 'cli/bin/verdict.mjs'),
      'up',
      '--student',
      o.studentDir,
      '--judge',
      o.judgeDir,
      '--work-dir',
      o.workDir,
      '--nats-url',
      'mem://step-bench',
      '--json',
    ],
    { cwd: o.treeDir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  try {
    const upFile = join(o.workDir, 'up.json');
    const up = await waitFor(
      'up.json',
      () =>
        existsSync(upFile)
          ? (JSON.parse(readFileSync(upFile, 'utf8')) as { addresses: Record<string, string> })
          : undefined,
      120_000,
      child,
    );
    const learner = createGrpcClient(learnerV1.LearnerServiceClient, up.addresses['learner']!, {
      defaultDeadlineMs: 60_000,
    });
    const runId = 'step-bench';
    try {
      await learner.unary('startRun', {
        resume: false,
        config: learnerV1.RunConfig.fromPartial({
          runId,
          student: { modelId: 'bench-student', checkpointUri: o.studentDir },
          judge: { modelId: 'bench-judge' },
          dataMix: [{ name: 'toy', split: 'id', labeled: true, weight: 1, limit: 4096 }],
          labeledRatio: { labeled: 1, unlabeled: 1 },
          reward: { weights: { lambdaVr: 0.5, muJudge: 0.5, rhoRerank: 0 } },
          algorithm: learnerV1.Algorithm.ALGORITHM_GRPO,
          promptsPerStep: o.promptsPerStep,
          groupSize: o.groupSize,
          minibatchSize: (o.promptsPerStep * o.groupSize) / 2,
          epochsPerStep: 1,
          learningRate: 1e-4,
          klCoef: 0.001,
          clipEpsilon: 0.2,
          rolloutSampling: { temperature: 1, topP: 1, topK: 0, maxNewTokens: o.maxNewTokens },
          maxSteps: o.steps,
          seed: 1,
          ...o.extra,
        }),
      });
      for (;;) {
        const s = await learner.unary('getRunStatus', { runId });
        const state = learnerV1.runStateToJSON(s.status!.state);
        if (state.endsWith('COMPLETED')) break;
        if (state.endsWith('FAILED') || state.endsWith('STOPPED')) {
          throw new Error(`bench run ${state}: ${s.status!.message}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      learner.raw.close();
    }
    const lines = readFileSync(join(o.workDir, 'runs', runId, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    return { steps: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- verdict up stderr (tail) ---\n${stderr}`);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}
