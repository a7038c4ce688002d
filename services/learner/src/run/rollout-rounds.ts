import type { rewardV1 } from '@verdict/proto';
import { rolloutV1 } from '@verdict/proto';
import { informativeGroups } from '@verdict/rl';
import { getTracer, type Messaging, type RuntimeLogger } from '@verdict/runtime';
import type { QuestionPool } from '../domain/question-pool.js';
import type { SampleGroup, ScoredSample } from '../domain/scored-sample.js';
import type { StepCollector } from '../domain/step-collector.js';
import type { ValidRunConfig } from '../run-config/run-config.js';
import { requestMessageId, SUBJECTS } from '../streams.js';
import { buildStepRequests } from './step-requests.js';

/** The rollouts a step trains on, and what collecting them cost. */
export interface Collected {
  readonly groups: SampleGroup[];
  readonly samples: ScoredSample[];
  readonly staleCount: number;
  /** Every rollout taken or dropped: ack them once the step is checkpointed. */
  readonly settledIds: string[];
  readonly rounds: number;
  readonly waitStartMs: number;
  readonly waitEndMs: number;
}

export interface RolloutRoundsDeps {
  readonly config: ValidRunConfig;
  readonly messaging: Messaging;
  readonly pool: QuestionPool;
  readonly encode: (text: string) => number[];
  readonly logger: RuntimeLogger;
  /** The collector the inbox fills (replaced on resume, hence a getter). */
  readonly collector: () => StepCollector;
  /** The reward config the next requests carry (the experiment may lower μ mid-run). */
  readonly reward: () => rewardV1.RewardConfig;
  readonly stopRequested: () => boolean;
}

/** A group's rewards as advantages see them: masked (non-OK) samples are null. */
export function okRewards(g: SampleGroup): (number | null)[] {
  return g.samples.map((s) => (s.status === 'OK' ? s.total : null));
}

/**
 * The learner's request and collect phases: publishes a step's rollout requests (round by round)
 * and waits for its scored groups. `wakeUp` is the inbox's signal that a sample arrived.
 */
export class RolloutRounds {
  /** Steps whose round-0 requests are out (generate-ahead requests the next step early). */
  private readonly requestedSteps = new Set<number>();
  private wake: (() => void) | undefined;

  constructor(private readonly deps: RolloutRoundsDeps) {}

  wakeUp(): void {
    this.wake?.();
  }

  /** Publishes one round of a step's requests (round 0 once per step; ids are deterministic anyway). */
  async request(step: number, round: number, version: number): Promise<void> {
    if (round === 0 && this.requestedSteps.has(step)) return;
    if (round === 0) this.requestedSteps.add(step);
    const { config, messaging } = this.deps;
    const { requests, groups } = buildStepRequests({
      config,
      pool: this.deps.pool,
      encode: this.deps.encode,
      reward: this.deps.reward(),
      step,
      round,
      policyVersionWanted: version,
    });
    this.deps.collector().expect(step, groups);
    // One span per round of requests: each rollout's trace starts here and ends in this learner's
    // consumer of verdict.rollout.scored (the context rides in the message headers).
    await getTracer().startActiveSpan(`learner step ${step} requests`, async (span) => {
      span.setAttributes({
        'verdict.run_id': config.runId,
        'verdict.step': step,
        'verdict.rollouts': requests.length,
      });
      try {
        await Promise.all(
          requests.map((r) =>
            messaging.publish(SUBJECTS.rolloutRequested, rolloutV1.RolloutRequested.encode(r).finish(), {
              msgId: requestMessageId(r.rolloutId),
            }),
          ),
        );
      } finally {
        span.end();
      }
    });
  }

  /**
   * Waits for the step's groups and takes them; undefined when a stop came first (the step is redone
   * on resume). With dynamic sampling, rounds of fresh questions are requested until
   * `promptsPerStep` groups have reward variance or `maxSamplingRounds` rounds were asked.
   */
  async collect(step: number, version: number): Promise<Collected | undefined> {
    const { config, logger } = this.deps;
    const waitStartMs = Date.now();
    const groups: SampleGroup[] = [];
    const stale: ScoredSample[] = [];
    const settledIds: string[] = [];
    let rounds = 0;
    for (;;) {
      await this.request(step, rounds, version);
      rounds++;
      const complete = await this.waitForStep(step, config.stepTimeoutMs);
      if (!complete && this.deps.stopRequested()) return undefined;
      if (!complete) {
        logger.warn('step timed out waiting for scored rollouts; training on the complete groups', {
          runId: config.runId,
          step,
          missingGroups: this.deps.collector().missingGroups(step),
        });
      }
      const taken = this.deps.collector().take(version, config.stalenessBound);
      groups.push(...taken.groups);
      stale.push(...taken.stale);
      settledIds.push(...taken.settledIds);
      if (!config.dynamicSampling || rounds >= config.maxSamplingRounds) break;
      if (informativeGroups(groups, okRewards).informative.length >= config.promptsPerStep) break;
    }
    return {
      groups,
      samples: groups.flatMap((g) => g.samples),
      staleCount: stale.length,
      settledIds,
      rounds,
      waitStartMs,
      waitEndMs: Date.now(),
    };
  }

  private async waitForStep(step: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.deps.collector().missingGroups(step) > 0) {
      if (this.deps.stopRequested()) return false;
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
}
