import { join } from 'node:path';
import type { AfterStepHook, LearnerApp } from '@verdict/learner';
import type { PolicyApp } from '@verdict/policy-server';
import type { LogLevel, RewardWeights } from '../stack/index.js';

/** The services of one arm, in this process, on free ports, over one shared messaging URL. */
export interface ArmStack {
  readonly addresses: Readonly<Record<string, string>>;
  readonly policy: PolicyApp;
  /** Undefined for the SFT arm (no RL run). */
  readonly learner: LearnerApp | undefined;
  /** Replaces the reward-service by one with these weights (guard `lower-mu`; no rollout in flight). */
  reconfigureReward(weights: RewardWeights): Promise<void>;
  /** Resolves once the policy-server serves weights version ≥ `version`. */
  waitForVersion(version: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ArmStackOptions {
  readonly messagingUrl: string;
  readonly workDir: string;
  readonly studentDir: string;
  readonly judgeDir: string;
  readonly runId: string;
  readonly weights: RewardWeights;
  /** Start reward-service and learner (RL arms). */
  readonly rl: boolean;
  readonly maxNewTokens: number;
  readonly afterStep?: AfterStepHook;
  readonly logLevel: string;
}

/**
 * Starts judge-server, reward-service (the arm's λ/μ: rollout requests carry no reward config),
 * a policy-server (the SFT student as version 0, loading only this run's weights), the evaluator and
 * the learner (with the experiment's after-step hook) through the one stack launcher. A fresh set
 * per arm keeps arms independent: every arm starts from the same student and nothing of one arm's
 * weights reaches another.
 */
export async function startArmStack(o: ArmStackOptions): Promise<ArmStack> {
  const { startStack } = await import('../stack/index.js');
  const stack = await startStack({
    messaging: { url: o.messagingUrl },
    studentDir: o.studentDir,
    judgeDir: o.judgeDir,
    runsDir: join(o.workDir, 'runs'),
    reportDir: join(o.workDir, 'evaluator'),
    reward: o.weights,
    skip: o.rl ? [] : ['reward-service', 'learner'],
    // Checked where every LOG_LEVEL is: each service's config (INVALID_ARGUMENT naming it).
    logLevel: o.logLevel as LogLevel,
    // One item per forward: a judge score must not depend on which items shared its batch (padding
    // changes the float sums), or reruns with the same seeds would drift apart.
    judge: { maxBatchSize: 1 },
    policy: {
      modelId: 'toy-student',
      runId: o.runId,
      instanceIdPrefix: `policy-${o.runId}-`,
      maxBatchSize: 32,
      rolloutConcurrency: 64,
      staleRetryDelayMs: 200,
    },
    evaluator: { batchSize: 32, maxNewTokens: o.maxNewTokens },
    ...(o.afterStep ? { learner: { afterStep: o.afterStep } } : {}),
  });
  const policy = stack.policies[0]!;
  return {
    addresses: { ...stack.addresses, 'policy-server': stack.addresses['policy-server-0']! },
    policy,
    learner: stack.learner,
    reconfigureReward: (weights) => stack.restartRewardService(weights),
    async waitForVersion(version, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const loaded = policy.health().loadedVersion;
        if (loaded !== undefined && loaded >= BigInt(version)) return;
        if (Date.now() > deadline) {
          throw new Error(
            `policy-server did not load weights v${version} within ${timeoutMs} ms (has v${loaded})`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () => stack.stop(),
  };
}
