import { createEvaluatorApp, type EvaluatorApp, loadEvaluatorConfig } from '@verdict/evaluator';
import { createJudgeServerApp, type JudgeServerApp, loadJudgeServerConfig } from '@verdict/judge-server';
import { createLearnerApp, type LearnerApp, loadLearnerConfig } from '@verdict/learner';
import { createPolicyApp, loadPolicyConfig, type PolicyApp } from '@verdict/policy-server';
import {
  createRewardServiceApp,
  loadRewardServiceConfig,
  type RewardServiceApp,
} from '@verdict/reward-service';
import { type RuntimeLogger, silentLogger } from '@verdict/runtime';

export interface StackOptions {
  readonly natsUrl: string;
  readonly studentDir: string;
  readonly judgeDir: string;
  readonly runsDir: string;
  readonly reportDir: string;
  readonly policyReplicas: number;
  /** λ/μ of the reward-service (the learner's run config must agree). */
  readonly lambdaVr: number;
  readonly muJudge: number;
  readonly logger?: RuntimeLogger;
  /** Services to leave out (e.g. run as child processes by the test instead). */
  readonly skip?: readonly ('reward' | 'evaluator' | 'learner')[];
}

export interface Stack {
  readonly judge: JudgeServerApp;
  readonly reward: RewardServiceApp | undefined;
  readonly policies: PolicyApp[];
  readonly evaluator: EvaluatorApp | undefined;
  readonly learner: LearnerApp | undefined;
  readonly addresses: Record<string, string>;
  stop(): Promise<void>;
}

const LOCAL = { LOG_LEVEL: 'warn' };

/** Env of the reward-service (also used to start it as a child process). */
export function rewardEnv(o: StackOptions, judgeAddress: string): Record<string, string> {
  return {
    ...LOCAL,
    NATS_URL: o.natsUrl,
    REWARD_HOST: '127.0.0.1',
    REWARD_PORT: '0',
    JUDGE_ADDRESS: judgeAddress,
    REWARD_LAMBDA_VR: String(o.lambdaVr),
    REWARD_MU_JUDGE: String(o.muJudge),
    REWARD_JUDGE_ON_LABELED: 'true',
  };
}

export function policyEnv(o: StackOptions, instanceId: string): Record<string, string> {
  return {
    ...LOCAL,
    NATS_URL: o.natsUrl,
    POLICY_HOST: '127.0.0.1',
    POLICY_PORT: '0',
    POLICY_MODEL_DIR: o.studentDir,
    POLICY_INSTANCE_ID: instanceId,
    POLICY_MAX_BATCH_SIZE: '8',
    POLICY_STALE_RETRY_DELAY: '200ms',
  };
}

export function learnerEnv(o: StackOptions): Record<string, string> {
  return {
    ...LOCAL,
    NATS_URL: o.natsUrl,
    LEARNER_HOST: '127.0.0.1',
    LEARNER_PORT: '0',
    LEARNER_RUNS_DIR: o.runsDir,
  };
}

/**
 * The five services in this process on free loopback ports, started in dependency order (judge →
 * reward → policy replicas → evaluator → learner); `stop` drains them in reverse.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  const logger = o.logger ?? silentLogger;
  const started: { stop(): Promise<void> }[] = [];
  const addresses: Record<string, string> = {};
  try {
    const judge = createJudgeServerApp(
      loadJudgeServerConfig({
        ...LOCAL,
        JUDGE_HOST: '127.0.0.1',
        JUDGE_PORT: '0',
        JUDGE_MODEL_DIR: o.judgeDir,
      }),
      { logger, telemetry: false },
    );
    addresses['judge-server'] = (await judge.start()).address;
    started.push(judge);

    let reward: RewardServiceApp | undefined;
    if (!o.skip?.includes('reward')) {
      reward = createRewardServiceApp(loadRewardServiceConfig(rewardEnv(o, addresses['judge-server'])), {
        logger,
        telemetry: false,
      });
      addresses['reward-service'] = (await reward.start()).address;
      started.push(reward);
    }

    const policies: PolicyApp[] = [];
    for (let i = 0; i < o.policyReplicas; i++) {
      const p = createPolicyApp(loadPolicyConfig(policyEnv(o, `policy-${i}`)), { logger });
      addresses[`policy-server-${i}`] = (await p.start()).address;
      started.push(p);
      policies.push(p);
    }

    let evaluator: EvaluatorApp | undefined;
    if (!o.skip?.includes('evaluator')) {
      evaluator = createEvaluatorApp(
        loadEvaluatorConfig({
          ...LOCAL,
          EVALUATOR_HOST: '127.0.0.1',
          EVALUATOR_PORT: '0',
          EVALUATOR_POLICY_TARGET: addresses['policy-server-0']!,
          EVALUATOR_REPORT_DIR: o.reportDir,
        }),
        { logger, telemetry: false },
      );
      addresses['evaluator'] = (await evaluator.start()).address;
      started.push(evaluator);
    }

    let learner: LearnerApp | undefined;
    if (!o.skip?.includes('learner')) {
      const evalEnv = addresses['evaluator']
        ? { LEARNER_EVALUATOR_ADDRESS: addresses['evaluator'], LEARNER_EVAL_LIMIT: '8' }
        : {};
      learner = createLearnerApp(loadLearnerConfig({ ...learnerEnv(o), ...evalEnv }), {
        logger,
        telemetry: false,
      });
      addresses['learner'] = (await learner.start()).address;
      started.push(learner);
    }

    return {
      judge,
      reward,
      policies,
      evaluator,
      learner,
      addresses,
      async stop() {
        for (const s of started.reverse()) await s.stop();
      },
    };
  } catch (error) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    throw error;
  }
}
