import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AfterStepHook, LearnerApp } from '@verdict/learner';
import type { PolicyApp } from '@verdict/policy-server';

interface Stoppable {
  readonly name: string;
  stop(): Promise<void>;
}

/** The services of one arm, in this process, on free ports, over one shared messaging URL. */
export interface ArmStack {
  readonly addresses: Readonly<Record<string, string>>;
  readonly policy: PolicyApp;
  /** Undefined for the SFT arm (no RL run). */
  readonly learner: LearnerApp | undefined;
  /** Replaces the reward-service by one with these weights (guard `lower-mu`; no rollout in flight). */
  reconfigureReward(weights: { lambdaVr: number; muJudge: number }): Promise<void>;
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
  readonly weights: { readonly lambdaVr: number; readonly muJudge: number };
  /** Start reward-service and learner (RL arms). */
  readonly rl: boolean;
  readonly maxNewTokens: number;
  readonly afterStep?: AfterStepHook;
  readonly logLevel: string;
}

const HOST = '127.0.0.1';

/**
 * Starts judge-server, reward-service (the arm's λ/μ: rollout requests carry no reward config),
 * a policy-server (the SFT student as version 0, loading only this run's weights), the evaluator and
 * the learner (with the experiment's after-step hook). A fresh set per arm keeps arms independent:
 * every arm starts from the same student and nothing of one arm's weights reaches another.
 */
export async function startArmStack(o: ArmStackOptions): Promise<ArmStack> {
  const [judgeMod, rewardMod, policyMod, evaluatorMod, learnerMod] = await Promise.all([
    import('@verdict/judge-server'),
    import('@verdict/reward-service'),
    import('@verdict/policy-server'),
    import('@verdict/evaluator'),
    import('@verdict/learner'),
  ]);
  const running: Stoppable[] = [];
  const addresses: Record<string, string> = {};
  const base = { LOG_LEVEL: o.logLevel };
  const stopAll = async () => {
    for (const s of [...running].reverse()) {
      await s.stop().catch(() => undefined);
    }
    running.length = 0;
  };
  let reward: Stoppable | undefined;
  const startReward = async (weights: { lambdaVr: number; muJudge: number }) => {
    const app = rewardMod.createRewardServiceApp(
      rewardMod.loadRewardServiceConfig({
        ...base,
        NATS_URL: o.messagingUrl,
        REWARD_HOST: HOST,
        REWARD_PORT: '0',
        JUDGE_ADDRESS: addresses['judge-server']!,
        REWARD_LAMBDA_VR: String(weights.lambdaVr),
        REWARD_MU_JUDGE: String(weights.muJudge),
      }),
    );
    addresses['reward-service'] = (await app.start()).address;
    return { name: 'reward-service', stop: () => app.stop() };
  };
  try {
    const judge = judgeMod.createJudgeServerApp(
      judgeMod.loadJudgeServerConfig({
        ...base,
        JUDGE_HOST: HOST,
        JUDGE_PORT: '0',
        JUDGE_MODEL_DIR: o.judgeDir,
        // One item per forward: a judge score must not depend on which items shared its batch (padding
        // changes the float sums), or reruns with the same seeds would drift apart.
        JUDGE_MAX_BATCH_SIZE: '1',
      }),
    );
    addresses['judge-server'] = (await judge.start()).address;
    running.push({ name: 'judge-server', stop: () => judge.stop() });

    if (o.rl) {
      reward = await startReward(o.weights);
      // Held outside `running`: reconfigureReward swaps it; stop() stops the current one.
    }

    const policy = policyMod.createPolicyApp(
      policyMod.loadPolicyConfig({
        ...base,
        NATS_URL: o.messagingUrl,
        POLICY_HOST: HOST,
        POLICY_PORT: '0',
        POLICY_MODEL_DIR: o.studentDir,
        POLICY_MODEL_ID: 'toy-student',
        POLICY_RUN_ID: o.runId,
        POLICY_INSTANCE_ID: `policy-${o.runId}`,
        POLICY_MAX_BATCH_SIZE: '32',
        POLICY_ROLLOUT_CONCURRENCY: '64',
        POLICY_STALE_RETRY_DELAY: '200ms',
      }),
    );
    addresses['policy-server'] = (await policy.start()).address;
    running.push({ name: 'policy-server', stop: () => policy.stop() });

    const evaluator = evaluatorMod.createEvaluatorApp(
      evaluatorMod.loadEvaluatorConfig({
        ...base,
        EVALUATOR_HOST: HOST,
        EVALUATOR_PORT: '0',
        EVALUATOR_POLICY_TARGET: addresses['policy-server']!,
        EVALUATOR_REPORT_DIR: join(o.workDir, 'evaluator'),
        EVALUATOR_BATCH_SIZE: '32',
        EVALUATOR_MAX_NEW_TOKENS: String(o.maxNewTokens),
      }),
    );
    mkdirSync(join(o.workDir, 'evaluator'), { recursive: true });
    addresses['evaluator'] = (await evaluator.start()).address;
    running.push({ name: 'evaluator', stop: () => evaluator.stop() });

    let learner: LearnerApp | undefined;
    if (o.rl) {
      learner = learnerMod.createLearnerApp(
        learnerMod.loadLearnerConfig({
          ...base,
          NATS_URL: o.messagingUrl,
          LEARNER_HOST: HOST,
          LEARNER_PORT: '0',
          LEARNER_RUNS_DIR: join(o.workDir, 'runs'),
        }),
        { telemetry: false, ...(o.afterStep ? { afterStep: o.afterStep } : {}) },
      );
      addresses['learner'] = (await learner.start()).address;
      const l = learner;
      running.push({ name: 'learner', stop: () => l.stop() });
    }

    return {
      addresses,
      policy,
      learner,
      async reconfigureReward(weights) {
        await reward?.stop();
        reward = await startReward(weights);
      },
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
      async stop() {
        // Learner first (it finishes its step), then the reward-service, then the rest.
        const learnerEntry = running.find((s) => s.name === 'learner');
        if (learnerEntry) {
          await learnerEntry.stop().catch(() => undefined);
          running.splice(running.indexOf(learnerEntry), 1);
        }
        await reward?.stop().catch(() => undefined);
        reward = undefined;
        await stopAll();
      },
    };
  } catch (error) {
    await reward?.stop().catch(() => undefined);
    await stopAll();
    throw error;
  }
}
