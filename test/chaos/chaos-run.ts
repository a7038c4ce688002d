// One training run over a real nats-server (file store) with every service a child process, while
// the fault schedule SIGKILLs services and restarts nats-server (same port, same store). The same
// function with an empty schedule is the undisturbed run the final weights are compared with.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rolloutV1 } from '@verdict/proto';
import { connectNats, type Messaging } from '@verdict/runtime';
import { startNatsServer } from '@verdict/runtime/testing';
import { countStored } from '../support/audit.js';
import { toyStackOptions } from '../support/stack.js';
import { type ChildStack, startChildStack } from './child-stack.js';
import { rolloutIds, type Stage, settleLedger } from './ledger.js';
import { describeFault, type Fault } from './schedule.js';

export const CHAOS_RUN_ID = 'chaos';
export const PROMPTS = 3;
export const GROUP_SIZE = 4;
/** Rollout messages per step: requested, generated and scored for each sample. */
export const MESSAGES_PER_STEP = PROMPTS * GROUP_SIZE * 3;
/** Services the chaos driver may SIGKILL (two policy replicas: one may die while the other works). */
export const CHAOS_TARGETS = [
  'judge-server',
  'reward-service',
  'policy-server-0',
  'policy-server-1',
  'learner',
] as const;

export interface ChaosRunOptions {
  readonly steps: number;
  /** Empty: the undisturbed run. */
  readonly schedule: readonly Fault[];
  readonly studentDir: string;
  readonly judgeDir: string;
  /** One line per event (faults, progress). */
  readonly log: (line: string) => void;
  /** The run must complete within this; else the error carries every child's stderr tail. */
  readonly timeoutMs: number;
}

export interface RolloutOutcome {
  readonly tokens: string;
  readonly reward: number;
}

/** The first rollout (in id order) whose tokens or reward differ between two runs, described. */
export function firstDifference(
  a: ReadonlyMap<string, RolloutOutcome>,
  b: ReadonlyMap<string, RolloutOutcome>,
): string | undefined {
  for (const id of [...a.keys()].sort()) {
    const x = a.get(id)!;
    const y = b.get(id);
    if (y === undefined) return `${id}: missing from the second run`;
    if (x.tokens !== y.tokens) return `${id}: tokens differ (${x.tokens} / ${y.tokens})`;
    if (x.reward !== y.reward) return `${id}: reward ${x.reward} / ${y.reward}`;
  }
  return undefined;
}

export interface ChaosRunResult {
  /** Faults carried out (kills + nats-server restarts). */
  readonly faults: number;
  readonly natsRestarts: number;
  readonly kills: Readonly<Record<string, number>>;
  /** Scheduled faults the run finished before. */
  readonly notReached: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly problems: readonly string[];
  /** Deliveries beyond the first to the services' durable consumers (crash and nak redeliveries). */
  readonly redeliveries: number;
  /** Publishes a core subscriber saw beyond the one stored: repeats the stream's duplicate window dropped. */
  readonly duplicatesCaught: number;
  /** Each rollout's completion tokens and total reward (the first place two runs can part). */
  readonly outcomes: ReadonlyMap<string, RolloutOutcome>;
  /** Service starts that failed (nats-server down at the time) and were retried. */
  readonly startRetries: number;
  /** Samples masked from the loss (not OK) over the run. */
  readonly masked: number;
  readonly weightsSha256: string;
  readonly durationMs: number;
  /** Mean time of the steps after the first (the first includes the services' start). */
  readonly stepMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const KEYS: Record<Stage, (d: Uint8Array) => string> = {
  requested: (d) => rolloutV1.RolloutRequested.decode(d).rolloutId,
  generated: (d) => rolloutV1.RolloutGenerated.decode(d).request?.rolloutId ?? '?',
  scored: (d) => rolloutV1.RolloutScored.decode(d).generated?.request?.rolloutId ?? '?',
};

function runConfig(studentDir: string, steps: number): object {
  return {
    runId: CHAOS_RUN_ID,
    student: { checkpointUri: studentDir, modelId: 'toy-student' },
    judge: { modelId: 'toy-judge' },
    dataMix: [{ name: 'toy', limit: 1000 }],
    labeledRatio: { labeled: 1, unlabeled: 1 },
    dataSeed: 9,
    reward: { weights: { lambdaVr: 0.5, muJudge: 0.5 } },
    promptsPerStep: PROMPTS,
    groupSize: GROUP_SIZE,
    learningRate: 1e-2,
    rolloutSampling: { temperature: 1, maxNewTokens: 12 },
    maxSteps: steps,
    seed: 2,
    // Never train on a partial batch: a rollout that does not arrive must fail the run, not vanish.
    stepTimeoutMs: 24 * 3600_000,
  };
}

export async function runChaos(o: ChaosRunOptions): Promise<ChaosRunResult> {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'verdict-chaos-'));
  const runConfigFile = join(work, 'run.json');
  writeFileSync(runConfigFile, JSON.stringify(runConfig(o.studentDir, o.steps)));
  const nats = await startNatsServer();
  o.log(`chaos: nats-server ${nats.url}, store ${nats.storeDir}, runs ${join(work, 'runs')}`);
  const base = toyStackOptions({
    natsUrl: nats.url,
    studentDir: o.studentDir,
    judgeDir: o.judgeDir,
    workDir: work,
    policyReplicas: 2,
  });
  // Bit-identical weights need the same arithmetic for every sample in both runs. The dynamic
  // batchers make the low bits of a judge score (and of rollout log-probs) depend on which requests
  // shared its batch, i.e. on timing: two undisturbed runs with batches of 8 already end on different
  // weights. So one sequence per batch, one thread and one session per service (they share 2 cores).
  const options = {
    ...base,
    threads: 1,
    judge: { maxBatchSize: 1 },
    policy: { ...base.policy, maxBatchSize: 1, sessionReplicas: 1, intraOpThreads: 1 },
    learner: { ...base.learner, runConfigFile },
  };
  let audit: Messaging | undefined;
  let stack: ChildStack | undefined;
  try {
    audit = await connectNats({ servers: nats.url, name: 'chaos-audit' });
    // Progress counter (places the faults) and publish counter (repeats the stream dropped).
    let seen = 0;
    const published: Record<Stage, Map<string, number>> = {
      requested: new Map(),
      generated: new Map(),
      scored: new Map(),
    };
    audit.connection.subscribe('verdict.rollout.>', {
      callback: (_e, msg) => {
        seen++;
        const stage = msg.subject.slice('verdict.rollout.'.length) as Stage;
        const key = KEYS[stage];
        if (key === undefined) return;
        const id = key(msg.data);
        published[stage].set(id, (published[stage].get(id) ?? 0) + 1);
      },
    });
    await audit.flush();
    stack = await startChildStack(options);
    const s = stack;
    const latestPath = join(work, 'runs', CHAOS_RUN_ID, 'checkpoints', 'latest.json');
    let firstStepAt: number | undefined;
    const completed = (): boolean => {
      try {
        const step = (JSON.parse(readFileSync(latestPath, 'utf8')) as { step: number }).step;
        firstStepAt ??= Date.now();
        return step >= o.steps;
      } catch {
        return false;
      }
    };
    const check = (): void => {
      const exit = s.unexpectedExit();
      const failed = /run failed/.test(s.stderrOf('learner'));
      if (exit !== undefined || failed || Date.now() - started > o.timeoutMs) {
        const why =
          exit ?? (failed ? 'the learner failed the run' : `no completion within ${o.timeoutMs} ms`);
        throw new Error(`${why} (messages seen ${seen})\n${s.stderrTails()}`);
      }
    };

    // Faults fire in schedule order as the run reaches them and run concurrently (a service may be
    // killed while another restarts, nats-server may restart while a service starts); faults on the
    // same victim wait for each other, so a kill always hits a running process.
    let faults = 0;
    let natsRestarts = 0;
    let notReached = 0;
    const kills: Record<string, number> = {};
    const failures: unknown[] = [];
    const victims = new Map<string, Promise<void>>();
    const execute = async (f: Fault): Promise<void> => {
      if (completed()) {
        notReached++;
        return;
      }
      if (f.kind === 'kill') {
        await s.kill(f.target);
        await sleep(f.downMs);
        await s.restart(f.target);
        kills[f.target] = (kills[f.target] ?? 0) + 1;
      } else {
        await nats.kill(f.signal);
        await sleep(f.downMs);
        await nats.restart();
        natsRestarts++;
      }
      faults++;
    };
    const checkAll = (): void => {
      if (failures.length > 0) throw failures[0];
      check();
    };
    for (const [i, f] of o.schedule.entries()) {
      while (seen < f.atMessage && !completed()) {
        checkAll();
        await sleep(100);
      }
      if (!completed()) await sleep(f.delayMs);
      if (completed()) {
        notReached += o.schedule.length - i;
        break;
      }
      const t = ((Date.now() - started) / 1000).toFixed(1);
      o.log(`chaos: fault ${i + 1}/${o.schedule.length} at ${t} s (message ${seen}): ${describeFault(f)}`);
      const victim = f.kind === 'kill' ? f.target : 'nats-server';
      const previous = victims.get(victim) ?? Promise.resolve();
      victims.set(
        victim,
        previous
          .then(() => execute(f))
          .catch((error: unknown) => {
            failures.push(error);
          }),
      );
    }
    while (!completed()) {
      checkAll();
      await sleep(200);
    }
    // Victims still down come back before the accounting (a restart may still be under way).
    await Promise.all(victims.values());
    checkAll();
    const completedAt = Date.now();
    o.log(`chaos: run completed at ${((Date.now() - started) / 1000).toFixed(1)} s (${faults} faults)`);

    const expected = rolloutIds(CHAOS_RUN_ID, o.steps, PROMPTS, GROUP_SIZE);
    const stored = {} as Record<Stage, Map<string, number>>;
    const outcomes = new Map<string, RolloutOutcome>();
    const keys: Record<Stage, (d: Uint8Array) => string> = {
      ...KEYS,
      scored: (d) => {
        const m = rolloutV1.RolloutScored.decode(d);
        const id = m.generated?.request?.rolloutId ?? '?';
        outcomes.set(id, {
          tokens: (m.generated?.completionTokenIds ?? []).join(' '),
          reward: m.reward?.total ?? Number.NaN,
        });
        return id;
      },
    };
    for (const stage of ['requested', 'generated', 'scored'] as const) {
      stored[stage] = await countStored(audit, 'VERDICT_ROLLOUTS', `verdict.rollout.${stage}`, keys[stage], {
        expected: expected.length,
        timeoutMs: 60_000,
      });
    }
    const runDir = join(work, 'runs', CHAOS_RUN_ID);
    const finalDir = join(runDir, 'checkpoints', `step-${String(o.steps).padStart(6, '0')}`);
    const state = JSON.parse(readFileSync(join(finalDir, 'trainer_state.json'), 'utf8')) as {
      extra: { learner: { seenIds: string[] } };
    };
    const lines = existsSync(join(runDir, 'metrics.jsonl'))
      ? readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as { step: number; masked: Record<string, number> })
      : [];
    const ledger = settleLedger({
      expected,
      stored,
      trained: state.extra.learner.seenIds,
      stepSamples: lines.map((l) => ({
        step: l.step,
        samples: Object.values(l.masked).reduce((a, n) => a + n, 0),
      })),
      steps: o.steps,
      perStep: PROMPTS * GROUP_SIZE,
    });
    let duplicatesCaught = 0;
    for (const stage of ['requested', 'generated', 'scored'] as const) {
      for (const [id, n] of published[stage])
        duplicatesCaught += Math.max(0, n - (stored[stage].get(id) ?? 0));
    }
    let redeliveries = 0;
    for await (const c of await audit.jetstreamManager.consumers.list('VERDICT_ROLLOUTS')) {
      if (c.name.startsWith('audit-') || c.config.filter_subject === undefined) continue;
      const stage = c.config.filter_subject.slice('verdict.rollout.'.length) as Stage;
      const onSubject = [...(stored[stage]?.values() ?? [])].reduce((a, n) => a + n, 0);
      redeliveries += Math.max(0, c.delivered.consumer_seq - onSubject);
    }
    const masked = lines.reduce(
      (a, l) => a + Object.values(l.masked).reduce((x, n) => x + n, 0) - (l.masked['ok'] ?? 0),
      0,
    );
    const weights = readFileSync(join(finalDir, 'model.safetensors'));
    return {
      faults,
      natsRestarts,
      kills,
      notReached,
      lost: ledger.lost,
      duplicated: ledger.duplicated,
      problems: ledger.problems,
      redeliveries,
      duplicatesCaught,
      masked,
      outcomes,
      startRetries: s.startRetries(),
      weightsSha256: createHash('sha256').update(weights).digest('hex'),
      durationMs: Date.now() - started,
      stepMs: o.steps > 1 ? (completedAt - (firstStepAt ?? started)) / (o.steps - 1) : completedAt - started,
    };
  } finally {
    await stack?.stop();
    await audit?.close().catch(() => undefined);
    await nats.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
