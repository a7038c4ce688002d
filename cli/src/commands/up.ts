import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineCommand } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';

/** The in-process broker (mem://verdict) every embedded service shares when no nats-server runs. */
const IN_PROCESS_BROKER = 'verdict';

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

    // Loaded here, not at the top: every command module is imported for `verdict --help`.
    const { startStack } = await import('../stack/index.js');
    const stack = await startStack({
      // With a --nats-url the stack adopts it (mem://NAME: the in-process transport); without one
      // it starts nats-server on a store under the work dir, or, where none is installed, runs
      // every service on the process-wide in-process broker (same JetStream semantics, nothing
      // persisted across restarts).
      messaging:
        flags.natsUrl !== undefined
          ? { url: flags.natsUrl }
          : { start: 'nats-or-memory', storeDir: join(workDir, 'nats'), brokerName: IN_PROCESS_BROKER },
      studentDir,
      judgeDir,
      runsDir: join(workDir, 'runs'),
      reportDir: join(workDir, 'reports'),
      host: flags.host,
      policyReplicas: flags.policyReplicas,
      reward: { lambdaVr: flags.lambdaVr, muJudge: flags.muJudge, rhoRerank: flags.rhoRerank },
      logLevel: ctx.json ? 'warn' : 'info',
      ...(flags.runConfig ? { learner: { runConfigFile: resolve(flags.runConfig) } } : {}),
      progress: (line) => ctx.progress(line),
    });
    const { addresses } = stack;
    const messagingTransport = stack.messaging.transport;
    ctx.progress(
      messagingTransport === 'memory'
        ? `messaging: in-process transport (${stack.messaging.url})`
        : `messaging: NATS JetStream at ${stack.messaging.url}`,
    );
    const stopAll = () =>
      stack.stop().catch((error: unknown) => ctx.progress(`stop: ${(error as Error).message}`));

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
