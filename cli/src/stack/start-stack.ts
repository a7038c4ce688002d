import { mkdirSync } from 'node:fs';
import {
  createEvaluatorApp,
  type EvaluatorApp,
  type EvaluatorConfig,
  loadEvaluatorConfig,
} from '@verdict/evaluator';
import {
  createJudgeServerApp,
  type JudgeServerApp,
  type JudgeServerConfig,
  loadJudgeServerConfig,
} from '@verdict/judge-server';
import { createLearnerApp, type LearnerApp, type LearnerConfig, loadLearnerConfig } from '@verdict/learner';
import { createPolicyApp, loadPolicyConfig, type PolicyApp, type PolicyConfig } from '@verdict/policy-server';
import {
  createRewardServiceApp,
  loadRewardServiceConfig,
  type RewardServiceApp,
  type RewardServiceConfig,
} from '@verdict/reward-service';
import { VerdictError } from '@verdict/runtime';
import {
  evaluatorEnv,
  judgeServerEnv,
  learnerEnv,
  policyServerEnv,
  type ResolvedStackOptions,
  rewardServiceEnv,
} from './service-env.js';
import { type StackMessaging, startStackMessaging } from './stack-messaging.js';
import type { RewardWeights, StackOptions } from './stack-options.js';

/** The validated configuration of every service the stack runs (skipped ones undefined). */
export interface StackConfigs {
  readonly judge: JudgeServerConfig;
  readonly reward: RewardServiceConfig | undefined;
  readonly policies: readonly PolicyConfig[];
  readonly evaluator: EvaluatorConfig | undefined;
  readonly learner: LearnerConfig | undefined;
}

export interface Stack {
  readonly messaging: Omit<StackMessaging, 'stop'>;
  /**
   * `host:port` by name: `nats` (the messaging URL), `judge-server`, `reward-service`,
   * `policy-server-0` … `policy-server-<n-1>`, `evaluator`, `learner` (those that run).
   */
  readonly addresses: Readonly<Record<string, string>>;
  readonly configs: StackConfigs;
  readonly judge: JudgeServerApp;
  /** The current reward-service (restartRewardService replaces it). */
  readonly reward: RewardServiceApp | undefined;
  readonly policies: readonly PolicyApp[];
  readonly evaluator: EvaluatorApp | undefined;
  readonly learner: LearnerApp | undefined;
  /**
   * Stops the reward-service and starts one with these weights in its place (no rollout may be in
   * flight: the experiment's guard calls it between steps). The new config is validated first, so
   * bad weights leave the running one alone.
   */
  restartRewardService(weights: RewardWeights): Promise<void>;
  /** Reverse start order: learner, evaluator, policies, reward, judge, then owned messaging. Idempotent. */
  stop(): Promise<void>;
}

interface Running {
  readonly name: string;
  stop(): Promise<void>;
}

const PLACEHOLDER_ADDRESS = '127.0.0.1:1';

function checkOptions(o: StackOptions): void {
  const replicas = o.policyReplicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 64) {
    const message = `policyReplicas must be an integer in [1, 64] (got ${replicas})`;
    throw new VerdictError('INVALID_ARGUMENT', message, { field: 'policyReplicas' });
  }
}

/**
 * Builds every service's config (placeholder addresses where a peer is not started yet), so a bad
 * option fails before any model is loaded or port bound; startStack rebuilds each one with the
 * real peer addresses as it goes.
 */
export function stackConfigs(
  o: ResolvedStackOptions,
  addresses: Readonly<Record<string, string>> = {},
): StackConfigs {
  checkOptions(o);
  const skip = new Set(o.skip ?? []);
  const at = (name: string) => addresses[name] ?? PLACEHOLDER_ADDRESS;
  const evaluatorRuns = !skip.has('evaluator');
  return {
    judge: loadJudgeServerConfig(judgeServerEnv(o)),
    reward: skip.has('reward-service')
      ? undefined
      : loadRewardServiceConfig(rewardServiceEnv(o, at('judge-server'))),
    policies: Array.from({ length: o.policyReplicas ?? 1 }, (_, i) =>
      loadPolicyConfig(policyServerEnv(o, i)),
    ),
    evaluator: evaluatorRuns ? loadEvaluatorConfig(evaluatorEnv(o, at('policy-server-0'))) : undefined,
    learner: skip.has('learner')
      ? undefined
      : loadLearnerConfig(learnerEnv(o, evaluatorRuns ? at('evaluator') : undefined)),
  };
}

/**
 * The five services in this process on free ports, started in dependency order: messaging (when
 * the options ask for it) → judge-server → reward-service → policy-server replicas → evaluator →
 * learner. `verdict up`, the experiment's per-arm stack and the end-to-end tests all start here.
 * When a start fails, everything already started is stopped (reverse order) before the error is
 * rethrown.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const progress = options.progress ?? (() => undefined);
  // Every config valid before a nats-server starts or a model loads: a bad option costs nothing.
  const plannedUrl = 'url' in options.messaging ? options.messaging.url : 'nats://127.0.0.1:4222';
  stackConfigs({ ...options, messaging: { url: plannedUrl } });
  const messaging = await startStackMessaging(options.messaging);
  const o: ResolvedStackOptions = { ...options, messaging: { url: messaging.url } };
  const skip = new Set(o.skip ?? []);
  const running: Running[] = [];
  const addresses: Record<string, string> = { nats: messaging.url };
  const deps = {
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
    telemetry: o.telemetry ?? false,
  };
  if (messaging.owned) {
    const name = messaging.transport === 'nats' ? 'nats-server' : 'in-process broker';
    running.push({ name, stop: () => messaging.stop() });
  }
  if (messaging.fallbackReason !== undefined) {
    progress(`${messaging.fallbackReason}; using the in-process messaging transport`);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      let first: unknown;
      for (const s of [...running].reverse()) {
        progress(`stopping ${s.name}`);
        try {
          await s.stop();
        } catch (error) {
          first ??= error;
          progress(`${s.name}: ${(error as Error).message}`);
        }
      }
      if (first !== undefined) throw first;
    })();
    return stopping;
  };

  try {
    const judgeConfig = loadJudgeServerConfig(judgeServerEnv(o));
    const judge = createJudgeServerApp(judgeConfig, deps);
    running.push({ name: 'judge-server', stop: () => judge.stop() });
    addresses['judge-server'] = (await judge.start()).address;

    let reward: RewardServiceApp | undefined;
    let rewardConfig: RewardServiceConfig | undefined;
    const startReward = async (config: RewardServiceConfig): Promise<RewardServiceApp> => {
      const app = createRewardServiceApp(config, deps);
      reward = app;
      rewardConfig = config;
      addresses['reward-service'] = (await app.start()).address;
      return app;
    };
    if (!skip.has('reward-service')) {
      // One slot in the stop order, whichever reward-service currently fills it.
      running.push({ name: 'reward-service', stop: async () => reward?.stop() });
      await startReward(loadRewardServiceConfig(rewardServiceEnv(o, addresses['judge-server'])));
    }

    const policies: PolicyApp[] = [];
    const policyConfigs: PolicyConfig[] = [];
    for (let i = 0; i < (o.policyReplicas ?? 1); i++) {
      const config = loadPolicyConfig(policyServerEnv(o, i));
      const p = createPolicyApp(config, o.logger !== undefined ? { logger: o.logger } : {});
      running.push({ name: `policy-server-${i}`, stop: () => p.stop() });
      policyConfigs.push(config);
      policies.push(p);
      addresses[`policy-server-${i}`] = (await p.start()).address;
    }

    let evaluator: EvaluatorApp | undefined;
    let evaluatorConfig: EvaluatorConfig | undefined;
    if (!skip.has('evaluator')) {
      mkdirSync(o.reportDir, { recursive: true });
      evaluatorConfig = loadEvaluatorConfig(evaluatorEnv(o, addresses['policy-server-0']!));
      const app = createEvaluatorApp(evaluatorConfig, deps);
      evaluator = app;
      running.push({ name: 'evaluator', stop: () => app.stop() });
      addresses['evaluator'] = (await app.start()).address;
    }

    let learner: LearnerApp | undefined;
    let learnerConfig: LearnerConfig | undefined;
    if (!skip.has('learner')) {
      learnerConfig = loadLearnerConfig(learnerEnv(o, addresses['evaluator']));
      const app = createLearnerApp(learnerConfig, {
        ...deps,
        ...(o.learner?.afterStep !== undefined ? { afterStep: o.learner.afterStep } : {}),
      });
      learner = app;
      running.push({ name: 'learner', stop: () => app.stop() });
      addresses['learner'] = (await app.start()).address;
    }

    return {
      messaging: { transport: messaging.transport, url: messaging.url, owned: messaging.owned },
      addresses,
      get configs(): StackConfigs {
        return {
          judge: judgeConfig,
          reward: rewardConfig,
          policies: policyConfigs,
          evaluator: evaluatorConfig,
          learner: learnerConfig,
        };
      },
      judge,
      get reward() {
        return reward;
      },
      policies,
      evaluator,
      learner,
      async restartRewardService(weights) {
        if (reward === undefined) {
          throw new VerdictError('FAILED_PRECONDITION', 'this stack runs no reward-service (skipped)');
        }
        if (stopping !== undefined) throw new VerdictError('FAILED_PRECONDITION', 'the stack is stopping');
        const config = loadRewardServiceConfig(rewardServiceEnv(o, addresses['judge-server']!, weights));
        progress(`restarting reward-service with λ ${weights.lambdaVr}, μ ${weights.muJudge}`);
        await reward.stop();
        await startReward(config);
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
