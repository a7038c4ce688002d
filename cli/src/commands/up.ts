import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineCommand } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';

interface Stoppable {
  readonly name: string;
  stop(): Promise<void>;
}

/** The process-wide in-process broker every embedded service shares when no nats-server runs. */
const IN_PROCESS_URL = 'mem://verdict';

/** Resolves on the first SIGINT/SIGTERM (a second one is left to the default handler: exit now). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolveSignal(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export default defineCommand({
  name: 'up',
  summary:
    'the whole stack on this machine: nats-server (or, without one, the in-process messaging transport) + the five services on free ports; Ctrl-C drains',
  flags: {
    student: { type: 'string', description: 'student (policy) model folder; required unless --toy' },
    judge: { type: 'string', description: 'judge model folder; required unless --toy' },
    toy: {
      type: 'boolean',
      description: 'write a tiny random student and judge (toy tokenizer) into the work dir',
    },
    workDir: {
      type: 'string',
      default: '.verdict/up',
      description: 'NATS store, runs, reports, toy models, up.json',
    },
    natsUrl: {
      type: 'string',
      description:
        'use this NATS server instead of starting nats-server (mem://NAME: the in-process transport)',
    },
    policyReplicas: { type: 'int', default: 1, min: 1, max: 16, description: 'policy-server replicas' },
    lambdaVr: { type: 'number', default: 0.5, min: 0, max: 1, description: 'reward-service λ (verifiable)' },
    muJudge: { type: 'number', default: 0.5, min: 0, max: 1, description: 'reward-service μ (judge)' },
    rhoRerank: {
      type: 'number',
      default: 0,
      min: 0,
      max: 1,
      description: 'reward-service ρ (judge score ranked within its group)',
    },
    runConfig: { type: 'string', description: 'run config JSON the learner starts (resumes) at once' },
    host: { type: 'string', default: '127.0.0.1', description: 'bind address of every service' },
  },
  async run(flags, ctx) {
    const weightSum = flags.lambdaVr + flags.muJudge + flags.rhoRerank;
    if (Math.abs(weightSum - 1) > 1e-9) {
      throw new UsageError(`--lambda-vr + --mu-judge + --rho-rerank must sum to 1 (got ${weightSum})`);
    }
    const workDir = resolve(flags.workDir);
    mkdirSync(workDir, { recursive: true });
    let studentDir = flags.student;
    let judgeDir = flags.judge;
    if (flags.toy) {
      const { writeRandomToyModel } = await import('@verdict/recipes');
      const student = { hiddenSize: 16, layers: 1, maxPositions: 256, seed: 3, scale: 0.5 };
      const judge = { hiddenSize: 32, layers: 2, maxPositions: 512, seed: 11, scale: 1.5 };
      studentDir ??= writeRandomToyModel(join(workDir, 'toy-student'), student);
      judgeDir ??= writeRandomToyModel(join(workDir, 'toy-judge'), judge);
    }
    if (studentDir === undefined) throw new UsageError('--student DIR is required (or --toy)');
    if (judgeDir === undefined) throw new UsageError('--judge DIR is required (or --toy)');
    studentDir = resolve(studentDir);
    judgeDir = resolve(judgeDir);

    const [{ createJudgeServerApp, loadJudgeServerConfig }, reward, policy, evaluator, learner] =
      await Promise.all([
        import('@verdict/judge-server'),
        import('@verdict/reward-service'),
        import('@verdict/policy-server'),
        import('@verdict/evaluator'),
        import('@verdict/learner'),
      ]);
    const running: Stoppable[] = [];
    const addresses: Record<string, string> = {};
    const log = ctx.json ? 'warn' : 'info';
    const base = { LOG_LEVEL: log };
    const host = flags.host;
    let messagingTransport: 'nats' | 'memory' = 'nats';
    const stopAll = async () => {
      for (const s of [...running].reverse()) {
        ctx.progress(`stopping ${s.name}`);
        await s.stop().catch((e: unknown) => ctx.progress(`${s.name}: ${(e as Error).message}`));
      }
    };
    try {
      let natsUrl = flags.natsUrl;
      let transport: 'nats' | 'memory' = 'nats';
      if (natsUrl?.startsWith('mem://')) transport = 'memory';
      if (natsUrl === undefined) {
        const { findNatsServerBinary, startNatsServer } = await import('@verdict/runtime/testing');
        let bin: string | undefined;
        try {
          bin = findNatsServerBinary();
        } catch (error) {
          // No nats-server: every service runs in this process, so they can share the
          // in-process broker (same JetStream semantics, nothing persisted across restarts).
          ctx.progress(`${(error as Error).message}; using the in-process messaging transport`);
        }
        if (bin === undefined) {
          transport = 'memory';
          natsUrl = IN_PROCESS_URL;
        } else {
          const storeDir = join(workDir, 'nats');
          mkdirSync(storeDir, { recursive: true });
          const server = await startNatsServer({ storeDir, bin });
          running.push({ name: 'nats-server', stop: () => server.stop() });
          natsUrl = server.url;
        }
      }
      ctx.progress(
        transport === 'memory'
          ? `messaging: in-process transport (${natsUrl})`
          : `messaging: NATS JetStream at ${natsUrl}`,
      );
      addresses['nats'] = natsUrl;
      messagingTransport = transport;
      const messagingUrl = natsUrl;
      // Service configs accept nats:, tls: and mem: URLs; connectMessaging routes mem:// to the
      // in-process broker every embedded service shares.

      const judge = createJudgeServerApp(
        loadJudgeServerConfig({ ...base, JUDGE_HOST: host, JUDGE_PORT: '0', JUDGE_MODEL_DIR: judgeDir }),
      );
      addresses['judge-server'] = (await judge.start()).address;
      running.push({ name: 'judge-server', stop: () => judge.stop() });

      const rewardApp = reward.createRewardServiceApp(
        reward.loadRewardServiceConfig({
          ...base,
          NATS_URL: messagingUrl,
          REWARD_HOST: host,
          REWARD_PORT: '0',
          JUDGE_ADDRESS: addresses['judge-server'],
          REWARD_LAMBDA_VR: String(flags.lambdaVr),
          REWARD_MU_JUDGE: String(flags.muJudge),
          REWARD_RHO_RERANK: String(flags.rhoRerank),
        }),
      );
      addresses['reward-service'] = (await rewardApp.start()).address;
      running.push({ name: 'reward-service', stop: () => rewardApp.stop() });

      for (let i = 0; i < flags.policyReplicas; i++) {
        const policyConfig = policy.loadPolicyConfig({
          ...base,
          NATS_URL: messagingUrl,
          POLICY_HOST: host,
          POLICY_PORT: '0',
          POLICY_MODEL_DIR: studentDir,
          POLICY_INSTANCE_ID: `policy-${i}`,
        });
        const p = policy.createPolicyApp(policyConfig);
        addresses[`policy-server-${i}`] = (await p.start()).address;
        running.push({ name: `policy-server-${i}`, stop: () => p.stop() });
      }

      const evalApp = evaluator.createEvaluatorApp(
        evaluator.loadEvaluatorConfig({
          ...base,
          EVALUATOR_HOST: host,
          EVALUATOR_PORT: '0',
          EVALUATOR_POLICY_TARGET: addresses['policy-server-0']!,
          EVALUATOR_REPORT_DIR: join(workDir, 'reports'),
        }),
      );
      addresses['evaluator'] = (await evalApp.start()).address;
      running.push({ name: 'evaluator', stop: () => evalApp.stop() });

      const learnerApp = learner.createLearnerApp(
        learner.loadLearnerConfig({
          ...base,
          NATS_URL: messagingUrl,
          LEARNER_HOST: host,
          LEARNER_PORT: '0',
          LEARNER_RUNS_DIR: join(workDir, 'runs'),
          ...(flags.runConfig ? { LEARNER_RUN_CONFIG: resolve(flags.runConfig) } : {}),
        }),
      );
      addresses['learner'] = (await learnerApp.start()).address;
      running.push({ name: 'learner', stop: () => learnerApp.stop() });
    } catch (error) {
      await stopAll();
      throw error;
    }

    const upFile = join(workDir, 'up.json');
    writeFileSync(
      upFile,
      `${JSON.stringify({ pid: process.pid, addresses, transport: messagingTransport, studentDir, judgeDir }, null, 2)}\n`,
    );
    for (const [name, address] of Object.entries(addresses)) ctx.progress(`${name.padEnd(16)} ${address}`);
    ctx.progress(`ready (addresses in ${upFile}); Ctrl-C drains and stops`);
    const signal = await untilSignal();
    ctx.progress(`${signal}: draining`);
    await stopAll();
    return { addresses, transport: messagingTransport, studentDir, judgeDir, workDir, stoppedBy: signal };
  },
});
