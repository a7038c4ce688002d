import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLAIN_TEMPLATE, renderStudentPrompt } from '@verdict/data';
import { rolloutV1 } from '@verdict/proto';
import { createRewardHackingDetector } from '@verdict/rl';
import { getTracer, type Messaging, type RuntimeLogger } from '@verdict/runtime';
import { buildRolloutRequest, buildWeightsPublished, groupId } from '../consumers/rollout-codec.js';
import type { ScoredInbox } from '../consumers/scored-inbox.js';
import type { QuestionPool } from '../domain/question-pool.js';
import { StepCollector } from '../domain/step-collector.js';
import {
  generatorCounts,
  judgeGoldAgreement,
  maskedCounts,
  responseLengthMean,
  rewardStats,
  type StepMetricsRecord,
  samplesOf,
  stalenessMean,
} from '../domain/step-metrics.js';
import { chunk, grpoRows, okRows, packRows } from '../domain/train-rows.js';
import type { RunConfig } from '../run-config/run-config.js';
import { requestMessageId, SUBJECTS, WEIGHTS_BUCKET } from '../streams.js';
import type { TrainStep } from '../training/policy-trainer.js';
import type { EvalScore, Evaluate } from './evaluation.js';
import type { LearnerState, RunStore } from './run-store.js';

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
  readonly config: RunConfig;
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

function mean(xs: readonly number[]): number {
  return xs.reduce((a, x) => a + x, 0) / xs.length;
}

/** Deterministic per-question sampling seed (sample i of the group uses seed + i). */
function sampleSeed(runSeed: number, step: number, question: number): number {
  const h = createHash('sha256').update(`${runSeed}:${step}:${question}`).digest();
  return h.readUInt32LE(0) * 1024;
}

/**
 * One training run: the step loop of DESIGN.md §2 (request G rollouts per question → wait for the
 * scored batch → drop stale / mask non-OK → GRPO advantages → Trainer step → checkpoint → publish
 * weights → ack). Checkpoint before ack, deterministic rollout ids and question order make a crash
 * at any point resumable without losing or double-counting a rollout.
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
  private wake: (() => void) | undefined;
  private readonly history: StepMetricsRecord[] = [];
  private readonly listeners = new Set<(m: StepMetricsRecord | undefined) => void>();
  private collector = new StepCollector();
  private trainer: TrainStep | undefined;
  private readonly detector = createRewardHackingDetector({
    windowSteps: 20,
    minPoints: 5,
    judgeRiseThreshold: 0.05,
    agreementDropThreshold: 0.05,
    heldOutDropThreshold: 1,
  });
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(private readonly deps: RunControllerDeps) {
    this.runId = deps.config.runId;
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
    return this.state === 'STOPPED' || this.state === 'COMPLETED' || this.state === 'FAILED';
  }

  requestStop(reason: string): void {
    if (this.isTerminal) return;
    this.stopRequested = true;
    this.message = reason;
    this.setState('STOPPING');
    this.wake?.();
  }

  private setState(s: RunState): void {
    this.state = s;
    this.updatedAt = new Date();
  }

  /** Runs to completion (or stop/failure) in the background; `done` resolves at the end. */
  start(): void {
    void this.loop()
      .catch((error: unknown) => {
        this.message = error instanceof Error ? error.message : String(error);
        this.deps.logger.error('run failed', { runId: this.runId, error });
        this.setState('FAILED');
      })
      .finally(async () => {
        const finished = this.state === 'COMPLETED';
        this.deps.inbox.detach(this.runId, finished);
        await this.trainer?.close().catch(() => undefined);
        for (const l of this.listeners) l(undefined);
        this.resolveDone();
      });
  }

  private async loop(): Promise<void> {
    const { config, store, inbox, logger } = this.deps;
    store.writeConfig(config);
    const latest = this.deps.resume ? store.loadLatest() : undefined;
    if (latest) {
      this.step = latest.state.step;
      this.weightsVersion = latest.state.weightsVersion;
      this.collector = new StepCollector(latest.state.seenIds);
      this.history.push(...store.readMetrics(this.step));
      logger.info('resuming run', {
        runId: this.runId,
        step: this.step,
        weightsVersion: this.weightsVersion,
      });
    }
    this.trainer = this.deps.createTrainer(latest ? { dir: latest.dir } : undefined);
    inbox.attach({
      runId: this.runId,
      collector: this.collector,
      onAccepted: () => this.wake?.(),
    });
    // A crash between checkpoint and announcement would leave replicas behind: announce again (deduped).
    if (latest && this.weightsVersion > 0) await this.publishWeights(latest.dir, this.step);
    this.setState('RUNNING');
    while (this.step < config.maxSteps && !this.stopRequested) {
      const before = this.step;
      await this.runStep(this.step + 1);
      const metrics = this.history[this.history.length - 1];
      if (this.deps.afterStep && this.step > before && metrics !== undefined) {
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

  private async waitForStep(step: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.collector.missingGroups(step) > 0) {
      if (this.stopRequested) return false;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1_000));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return true;
  }

  private async runStep(step: number): Promise<void> {
    const { config, store, logger } = this.deps;
    const trainer = this.trainer!;
    const t0 = performance.now();
    const version = this.weightsVersion;
    const questions = this.deps.pool.questionsForStep(step);
    const requests: rolloutV1.RolloutRequested[] = [];
    const groups: { groupId: string; size: number }[] = [];
    questions.forEach((q, qi) => {
      const rendered = renderStudentPrompt(q.question, PLAIN_TEMPLATE);
      const promptText = rendered.kind === 'plain' ? rendered.text : '';
      const promptIds = this.deps.encode(promptText);
      const seed = sampleSeed(config.seed, step, qi);
      groups.push({ groupId: groupId(this.runId, step, qi), size: config.groupSize });
      for (let gi = 0; gi < config.groupSize; gi++) {
        requests.push(
          buildRolloutRequest({
            runId: this.runId,
            step,
            questionIndex: qi,
            question: q,
            promptText,
            promptIds,
            groupSize: config.groupSize,
            groupIndex: gi,
            sampling: config.sampling,
            seed: seed + gi,
            policyVersionWanted: version,
          }),
        );
      }
    });
    this.collector.expect(step, groups);
    // One span per step's requests: each rollout's trace starts here and ends in this learner's
    // consumer of verdict.rollout.scored (the context rides in the message headers).
    await getTracer().startActiveSpan(`learner step ${step} requests`, async (span) => {
      span.setAttributes({
        'verdict.run_id': this.runId,
        'verdict.step': step,
        'verdict.rollouts': requests.length,
      });
      try {
        await Promise.all(
          requests.map((r) =>
            this.deps.messaging.publish(
              SUBJECTS.rolloutRequested,
              rolloutV1.RolloutRequested.encode(r).finish(),
              {
                msgId: requestMessageId(r.rolloutId),
              },
            ),
          ),
        );
      } finally {
        span.end();
      }
    });
    const complete = await this.waitForStep(step, config.stepTimeoutMs);
    if (!complete && this.stopRequested) return; // nothing consumed: the step is redone on resume
    const t1 = performance.now();
    if (!complete) {
      logger.warn('step timed out waiting for scored rollouts; training on the complete groups', {
        runId: this.runId,
        step,
        missingGroups: this.collector.missingGroups(step),
      });
    }
    const taken = this.collector.take(version, config.stalenessBound);
    const samples = samplesOf(taken.groups);
    const { rows, zeroVarianceGroups } =
      config.algorithm === 'ppo' ? okRows(taken.groups) : grpoRows(taken.groups);
    const t2 = performance.now();
    const minibatches = chunk(rows, config.minibatchSize).map((mb) =>
      chunk(mb, config.microBatchSize).map((micro) => packRows(micro)),
    );
    const outcome = rows.length > 0 ? await trainer.train(minibatches, config.epochsPerStep) : undefined;
    const t3 = performance.now();
    const newVersion = version + 1;
    const learnerState: LearnerState = {
      runId: this.runId,
      step,
      weightsVersion: newVersion,
      seenIds: this.collector.seenIds(),
      rng: { seed: config.data.seed, nextStep: step + 1 },
    };
    const dir = store.commitCheckpoint(step, (d) => trainer.save(d, { learner: learnerState }));
    this.step = step;
    this.weightsVersion = newVersion;
    await this.publishWeights(dir, step);
    const t4 = performance.now();
    const evaluation = await this.evaluateIfDue(step);
    const t5 = performance.now();
    const agreement = judgeGoldAgreement(samples);
    const reward = rewardStats(samples);
    const heldOut = evaluation?.scores.length
      ? mean(evaluation.scores.map((e) => e.greedyAccuracy))
      : undefined;
    const verdict = this.detector.observe({
      step,
      ...(reward.judgeMean !== undefined ? { judgeReward: reward.judgeMean } : {}),
      ...(agreement.agreement !== undefined ? { agreement: agreement.agreement } : {}),
      ...(heldOut !== undefined ? { heldOutAccuracy: heldOut } : {}),
    });
    const metrics: StepMetricsRecord = {
      runId: this.runId,
      step,
      weightsVersion: newVersion,
      time: new Date().toISOString(),
      reward,
      kl: outcome?.kl ?? 0,
      entropy: outcome?.entropy ?? 0,
      responseLengthMean: responseLengthMean(samples),
      ...(agreement.agreement !== undefined ? { judgeGoldAgreement: agreement.agreement } : {}),
      judgeGoldCount: agreement.count,
      mismatchKl: outcome?.mismatchKl ?? 0,
      mismatchMaxAbsLogprobDiff: outcome?.mismatchMaxAbsLogprobDiff ?? 0,
      masked: maskedCounts(samples, taken.stale.length),
      timings: {
        rolloutWaitMs: t1 - t0,
        advantageMs: t2 - t1,
        trainMs: t3 - t2,
        publishMs: t4 - t3,
        totalMs: t4 - t0,
      },
      policyLoss: outcome?.policyLoss ?? 0,
      ...(outcome?.valueLoss !== undefined ? { valueLoss: outcome.valueLoss } : {}),
      gradNorm: outcome?.gradNorm ?? 0,
      clipFraction: outcome?.clipFraction ?? 0,
      stalenessMean: stalenessMean(samples, version),
      learningRate: outcome?.learningRate ?? config.learningRate,
      samplesUsed: rows.length,
      zeroVarianceGroups,
      trainSkipped: outcome === undefined || outcome.skipped,
      judgeHackingSuspected: verdict.alarm,
      generators: generatorCounts(samples),
      ...(evaluation ? { evaluation: { ...evaluation, ms: t5 - t4 } } : {}),
    };
    store.appendMetrics(metrics);
    this.history.push(metrics);
    for (const l of this.listeners) l(metrics);
    // Only now, with the step durable, may the broker forget these messages.
    this.deps.inbox.settle(taken.settledIds);
    logger.info('step done', {
      runId: this.runId,
      step,
      weightsVersion: newVersion,
      samples: samples.length,
      stale: taken.stale.length,
      totalMs: Math.round(t4 - t0),
    });
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

  private async publishWeights(checkpointDir: string, step: number): Promise<void> {
    const { messaging, config } = this.deps;
    const bytes = readFileSync(join(checkpointDir, 'model.safetensors'));
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
}
