import { learnerV1, type rewardV1 } from '@verdict/proto';
import { createRewardHackingMonitor, informativeGroups, type RewardHackingMonitor } from '@verdict/rl';
import { type Messaging, type RuntimeLogger, VerdictError } from '@verdict/runtime';
import { buildWeightsPublished } from '../consumers/rollout-codec.js';
import type { ScoredInbox } from '../consumers/scored-inbox.js';
import type { QuestionPool } from '../domain/question-pool.js';
import { StepCollector } from '../domain/step-collector.js';
import type { StepMetricsRecord } from '../domain/step-metrics.js';
import { partitionRolloutWait } from '../domain/step-phases.js';
import { chunk, grpoRows, okRows, packRows } from '../domain/train-rows.js';
import type { ValidRunConfig } from '../run-config/run-config.js';
import { SUBJECTS, WEIGHTS_BUCKET } from '../streams.js';
import type { TrainOutcome, TrainStep } from '../training/policy-trainer.js';
import type { EvalScore, Evaluate } from './evaluation.js';
import { learnerMonitorOptions } from './monitor-options.js';
import { type Collected, okRewards, RolloutRounds } from './rollout-rounds.js';
import type { LearnerState, RunStore } from './run-store.js';
import { completeStepMetrics, draftStepMetrics, monitorObservation } from './step-draft.js';

export type RunState = 'PENDING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'COMPLETED' | 'FAILED';

export interface RunStatusSnapshot {
  readonly runId: string;
  readonly state: RunState;
  readonly step: number;
  readonly weightsVersion: number;
  readonly maxSteps: number;
  readonly startedAt: Date;
  readonly updatedAt: Date;
  readonly message: string;
}

export interface RunControllerDeps {
  readonly config: ValidRunConfig;
  readonly store: RunStore;
  readonly messaging: Messaging;
  readonly inbox: ScoredInbox;
  readonly pool: QuestionPool;
  readonly encode: (text: string) => number[];
  /** Builds the trainer, from the checkpoint's params/optimizer when resuming. */
  readonly createTrainer: (resume: { dir: string } | undefined) => TrainStep;
  readonly logger: RuntimeLogger;
  /** Resume from the latest checkpoint when there is one. */
  readonly resume: boolean;
  /** Evaluation every `evalEverySteps` (through the evaluator); absent = periodic evaluation off. */
  readonly evaluate?: Evaluate;
  /** Problems per suite at each evaluation. */
  readonly evalLimit?: number;
  /** Awaited after each completed step, before the next one's requests (experiment guards, probes). */
  readonly afterStep?: AfterStepHook;
}

/** What an after-step hook sees: the step just finished and the run (it may `requestStop`). */
export interface AfterStepInfo {
  readonly runId: string;
  readonly step: number;
  readonly weightsVersion: number;
  readonly metrics: StepMetricsRecord;
  readonly run: RunController;
}

export type AfterStepHook = (info: AfterStepInfo) => Promise<void>;

const TRANSITIONS: Record<RunState, readonly RunState[]> = {
  PENDING: ['RUNNING', 'FAILED', 'STOPPED'],
  RUNNING: ['STOPPING', 'COMPLETED', 'FAILED'],
  STOPPING: ['STOPPED', 'COMPLETED', 'FAILED'],
  STOPPED: [],
  COMPLETED: [],
  FAILED: [],
};

/**
 * One training run, as a controller over the policy worker (the shape of verl's single controller).
 * Each step is a sequence of phases, one method each: request rollouts → collect them (dynamic
 * sampling draws more rounds until the update has its quota of informative groups) → optionally
 * request the next step's rollouts (generate-ahead: they are generated while this step trains, one
 * weights version behind) → train → checkpoint → hand the weights over → finish (evaluate, the
 * reward-hacking monitor, the metrics line, ack). The checkpoint holds the step's draft record and
 * the monitor's state, and the rollouts are acked only after it: a crash at any point resumes
 * without losing or double-counting a rollout, and the finish phase of a checkpointed step whose
 * metrics line is missing runs again on resume, so the monitor's verdicts do not depend on crashes.
 */
export class RunController {
  readonly runId: string;
  private state: RunState = 'PENDING';
  private step = 0;
  private weightsVersion = 0;
  private message = '';
  private readonly startedAt = new Date();
  private updatedAt = new Date();
  private stopRequested = false;
  private started = false;
  private readonly history: StepMetricsRecord[] = [];
  private readonly listeners = new Set<(m: StepMetricsRecord | undefined) => void>();
  private collector = new StepCollector();
  private trainer: TrainStep | undefined;
  private monitor: RewardHackingMonitor = createRewardHackingMonitor(learnerMonitorOptions());
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  /** Sent with every rollout request: the reward-service mixes each rollout with it. */
  private rewardConfig: rewardV1.RewardConfig;
  /** The request and collect phases. */
  private readonly rounds: RolloutRounds;

  constructor(private readonly deps: RunControllerDeps) {
    this.runId = deps.config.runId;
    this.rewardConfig = deps.config.reward;
    this.rounds = new RolloutRounds({
      config: deps.config,
      messaging: deps.messaging,
      pool: deps.pool,
      encode: deps.encode,
      logger: deps.logger,
      collector: () => this.collector,
      reward: () => this.rewardConfig,
      stopRequested: () => this.stopRequested,
    });
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  status(): RunStatusSnapshot {
    return {
      runId: this.runId,
      state: this.state,
      step: this.step,
      weightsVersion: this.weightsVersion,
      maxSteps: this.deps.config.maxSteps,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      message: this.message,
    };
  }

  metricsFrom(step: number): StepMetricsRecord[] {
    return this.history.filter((m) => m.step >= step);
  }

  /** Live metrics; called with `undefined` when the run ends. Returns the unsubscribe function. */
  subscribe(listener: (m: StepMetricsRecord | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get isTerminal(): boolean {
    return TRANSITIONS[this.state].length === 0;
  }

  requestStop(reason: string): void {
    if (this.isTerminal || this.stopRequested) return;
    this.stopRequested = true;
    this.message = reason;
    if (this.state === 'RUNNING') this.setState('STOPPING');
    this.rounds.wakeUp();
  }

  /**
   * The weights the reward-service mixes the next requested rollouts with (the experiment's guard
   * lowers μ this way). Not checkpointed: a resumed run goes back to its config's weights.
   */
  setRewardWeights(weights: rewardV1.RewardWeights): void {
    const w = [weights.lambdaVr, weights.muJudge, weights.rhoRerank];
    if (!w.every((x) => x >= 0 && x <= 1) || Math.abs(w[0]! + w[1]! + w[2]! - 1) > 1e-9) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `reward weights must be in [0, 1] and sum to 1 (got ${w.join(', ')})`,
        { field: 'reward.weights' },
      );
    }
    this.rewardConfig = { ...this.rewardConfig, weights: { ...weights } };
  }

  private setState(next: RunState): void {
    if (!TRANSITIONS[this.state].includes(next)) {
      throw new VerdictError('FAILED_PRECONDITION', `run ${this.runId}: ${this.state} cannot become ${next}`);
    }
    this.state = next;
    this.updatedAt = new Date();
  }

  /** Runs to completion (or stop/failure) in the background; `done` resolves at the end. Once only. */
  start(): void {
    if (this.state !== 'PENDING' || this.started) {
      throw new VerdictError('FAILED_PRECONDITION', `run ${this.runId} was already started`, {
        field: 'run_id',
      });
    }
    this.started = true;
    void this.loop()
      .catch((error: unknown) => {
        this.message = error instanceof Error ? error.message : String(error);
        this.deps.logger.error('run failed', { runId: this.runId, error });
        if (!this.isTerminal) this.setState('FAILED');
      })
      .finally(async () => {
        this.deps.inbox.detach(this.runId, this.state === 'COMPLETED');
        await this.trainer?.close().catch(() => undefined);
        for (const l of this.listeners) l(undefined);
        this.resolveDone();
      });
  }

  private async loop(): Promise<void> {
    const { config, inbox } = this.deps;
    this.deps.store.writeConfig(config);
    const resumed = await this.resumeFromCheckpoint();
    this.trainer ??= this.deps.createTrainer(undefined);
    inbox.attach({ runId: this.runId, collector: this.collector, onAccepted: () => this.rounds.wakeUp() });
    if (resumed) await this.finishResumedStep(resumed);
    if (this.stopRequested) {
      this.setState('STOPPED');
      return;
    }
    this.setState('RUNNING');
    while (this.step < config.maxSteps && !this.stopRequested) {
      const metrics = await this.runStep(this.step + 1);
      if (metrics !== undefined && this.deps.afterStep) {
        await this.deps.afterStep({
          runId: this.runId,
          step: this.step,
          weightsVersion: this.weightsVersion,
          metrics,
          run: this,
        });
      }
    }
    this.setState(this.stopRequested && this.step < config.maxSteps ? 'STOPPED' : 'COMPLETED');
  }

  /** Restores step, version, seen ids and the monitor from the latest checkpoint. */
  private async resumeFromCheckpoint(): Promise<LearnerState | undefined> {
    const latest = this.deps.resume ? this.deps.store.loadLatest() : undefined;
    if (latest === undefined) return undefined;
    const s = latest.state;
    this.step = s.step;
    this.weightsVersion = s.weightsVersion;
    this.collector = new StepCollector(s.seenIds);
    this.monitor = createRewardHackingMonitor(learnerMonitorOptions(), s.monitor);
    this.history.push(...this.deps.store.readMetrics(this.step));
    this.trainer = this.deps.createTrainer({ dir: latest.dir });
    this.deps.logger.info('resuming run', {
      runId: this.runId,
      step: this.step,
      version: this.weightsVersion,
    });
    // A crash between checkpoint and announcement would leave replicas behind: announce again (deduped).
    if (this.weightsVersion > 0) await this.handOverWeights(this.step);
    return s;
  }

  /**
   * The checkpointed step's finish phase: replayed into the monitor from its metrics line when that
   * was written, else run again (evaluation, monitor, metrics line) from the draft in the checkpoint.
   */
  private async finishResumedStep(state: LearnerState): Promise<void> {
    const line = this.history.find((m) => m.step === state.step);
    if (line !== undefined) {
      this.monitor.observe(monitorObservation(line, undefined));
      return;
    }
    if (state.draft !== undefined) await this.finishStep(state.draft, [], 0);
  }

  private async runStep(step: number): Promise<StepMetricsRecord | undefined> {
    const t0 = performance.now();
    const version = this.weightsVersion;
    const collected = await this.rounds.collect(step, version);
    if (collected === undefined) return undefined; // stopped while waiting: the step is redone on resume
    if (this.deps.config.generateAhead && step < this.deps.config.maxSteps && !this.stopRequested) {
      await this.rounds.request(step + 1, 0, version);
    }
    const t1 = performance.now();
    const { outcome, rows, zeroVarianceGroups, informative } = await this.train(collected);
    const t2 = performance.now();
    const draft = draftStepMetrics({
      runId: this.runId,
      step,
      weightsVersion: version + 1,
      collected,
      outcome,
      rowsUsed: rows,
      zeroVarianceGroups,
      informativeGroups: informative,
      learningRate: this.deps.config.learningRate,
      rolloutWait: partitionRolloutWait(
        collected.samples.map((s) => s.timeline ?? {}),
        collected.waitStartMs,
        collected.waitEndMs,
      ),
      trainMs: t2 - t1,
      rolloutWaitMs: collected.waitEndMs - collected.waitStartMs,
    });
    this.checkpoint(step, version + 1, draft);
    const t3 = performance.now();
    await this.handOverWeights(step);
    const t4 = performance.now();
    return this.finishStep(draft, collected.settledIds, t0, { checkpoint: t3 - t2, weightHandover: t4 - t3 });
  }

  /** Advantages (GRPO: informative groups only with dynamic sampling, at most the quota), then the worker. */
  private async train(collected: Collected) {
    const { config } = this.deps;
    const ppo = config.algorithm === learnerV1.Algorithm.ALGORITHM_PPO;
    const withVariance = informativeGroups(collected.groups, okRewards).informative;
    // Dynamic sampling trains on exactly the quota of informative groups (DAPO), when it got them.
    const groups = config.dynamicSampling ? withVariance.slice(0, config.promptsPerStep) : collected.groups;
    const informative = Math.min(
      withVariance.length,
      config.dynamicSampling ? config.promptsPerStep : Infinity,
    );
    const { rows, zeroVarianceGroups } = ppo
      ? okRows(groups)
      : grpoRows(groups, { dropZeroVariance: config.dynamicSampling });
    const minibatches = chunk(rows, config.minibatchSize).map((mb) =>
      chunk(mb, config.microBatchSize).map((micro) => packRows(micro)),
    );
    const outcome: TrainOutcome | undefined =
      rows.length > 0 ? await this.trainer!.train(minibatches, config.epochsPerStep) : undefined;
    return { outcome, rows: rows.length, zeroVarianceGroups, informative };
  }

  /** Checkpoint before ack: the step's params, optimizer, seen ids, monitor state and draft record. */
  private checkpoint(step: number, newVersion: number, draft: StepMetricsRecord): void {
    const learner: LearnerState = {
      runId: this.runId,
      step,
      weightsVersion: newVersion,
      seenIds: this.collector.seenIds(),
      rng: { seed: this.deps.config.dataSeed, nextStep: step + 1 },
      monitor: this.monitor.snapshot(),
      draft,
    };
    this.deps.store.commitCheckpoint(step, (d) => this.trainer!.save(d, { learner }));
    this.step = step;
    this.weightsVersion = newVersion;
  }

  /** The new weights, from the worker's memory, through the Object Store to every policy-server. */
  private async handOverWeights(step: number): Promise<void> {
    const { messaging, config } = this.deps;
    const bytes = this.trainer!.weights();
    const objectName = `${this.runId}/v${this.weightsVersion}.safetensors`;
    const blob = await messaging.putBlob(WEIGHTS_BUCKET, objectName, bytes);
    await messaging.publish(
      SUBJECTS.weightsPublished,
      buildWeightsPublished({
        runId: this.runId,
        version: this.weightsVersion,
        step,
        modelId: config.student.modelId,
        bucket: WEIGHTS_BUCKET,
        objectName,
        sha256: blob.sha256,
        sizeBytes: blob.size,
      }),
      { msgId: `weights:${this.runId}:v${this.weightsVersion}` },
    );
  }

  /**
   * The step's tail: evaluation when due, the reward-hacking monitor, the metrics line, then (only
   * now, with the step durable) the acks. `t0` = the step's start (0 on a resumed tail: no timings).
   */
  private async finishStep(
    draft: StepMetricsRecord,
    settledIds: readonly string[],
    t0: number,
    measured: { checkpoint: number; weightHandover: number } = { checkpoint: 0, weightHandover: 0 },
  ): Promise<StepMetricsRecord> {
    const tEval = performance.now();
    const evaluation = await this.evaluateIfDue(draft.step);
    const evalMs = performance.now() - tEval;
    const verdict = this.monitor.observe(monitorObservation(draft, evaluation?.scores));
    const metrics = completeStepMetrics(draft, {
      ...(evaluation ? { evaluation: { ...evaluation, ms: evalMs } } : {}),
      verdict,
      totalMs: t0 === 0 ? draft.timings.totalMs : performance.now() - t0,
      measured,
    });
    this.deps.store.appendMetrics(metrics);
    this.history.push(metrics);
    for (const l of this.listeners) l(metrics);
    this.deps.inbox.settle(settledIds);
    this.deps.logger.info('step done', {
      runId: this.runId,
      step: draft.step,
      weightsVersion: draft.weightsVersion,
      samples: draft.masked.ok + draft.masked.abstain + draft.masked.timeout + draft.masked.error,
      totalMs: Math.round(metrics.timings.totalMs),
    });
    return metrics;
  }

  /** Runs the configured suites when this step is an evaluation step; failures are recorded, never fatal. */
  private async evaluateIfDue(step: number): Promise<{ scores: EvalScore[]; error?: string } | undefined> {
    const { config, evaluate, logger } = this.deps;
    if (evaluate === undefined || config.evalEverySteps === 0 || config.evalSuites.length === 0)
      return undefined;
    if (step % config.evalEverySteps !== 0 && step !== config.maxSteps) return undefined;
    try {
      return { scores: await evaluate(config.evalSuites, this.deps.evalLimit ?? 50) };
    } catch (error) {
      logger.warn('evaluation failed; the run goes on', { runId: this.runId, step, error });
      return { scores: [], error: error instanceof Error ? error.message : String(error) };
    }
  }
}
