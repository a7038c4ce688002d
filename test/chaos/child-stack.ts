// Every service of a run as a child process (`support/child-service.ts`), so the chaos driver can
// SIGKILL any of them. Each child's variables come from the launcher's own translation of the stack
// options (`judgeServerEnv`, `rewardServiceEnv`, `policyServerEnv`, `learnerEnv` of
// `@verdict/cli/stack`), as in the crash tests; this file only starts, kills and restarts them.
import {
  judgeServerEnv,
  learnerEnv,
  policyServerEnv,
  type ResolvedStackOptions,
  rewardServiceEnv,
} from '@verdict/cli/stack';
import { type ChildService, startChildService } from '../support/child-service.js';

export interface ChildStack {
  /** Services a kill may hit, in start order. */
  readonly names: readonly string[];
  /** SIGKILL and wait for the exit. */
  kill(name: string): Promise<void>;
  /** Starts the service again with the same variables (the judge on its first port); resolves once it serves. */
  restart(name: string): Promise<void>;
  /** Starts that failed (the child exited before serving, e.g. nats-server was down) and were retried. */
  startRetries(): number;
  /** A child that exited without being killed by `kill` (name and code), if any. */
  unexpectedExit(): string | undefined;
  /** Everything the service's current child wrote on stderr. */
  stderrOf(name: string): string;
  /** The last `chars` of each child's stderr (failure messages). */
  stderrTails(chars?: number): string;
  /** SIGTERM every child (reverse start order) and wait. */
  stop(): Promise<void>;
}

interface Slot {
  readonly name: string;
  readonly bin: string;
  env: Record<string, string>;
  child: ChildService;
  killing: boolean;
  exitNote: string | undefined;
  /** stderr of the children this slot ran before (only tails are kept). */
  past: string;
}

/**
 * Short ack waits bring a killed consumer's unacked messages back within seconds. The reward-service
 * retries a judge call for ~30 s (its deadline), so a judge-server restart delays a score instead of
 * turning it into an ERROR that the loss would mask. A policy replica that restarts takes requests
 * before it has loaded the weights they want and naks them; each nak is a delivery, so the
 * service's 1 s stale retry (the tests' stack uses 200 ms) keeps them under max-deliver (20).
 */
export const CHAOS_SERVICE_ENV = {
  reward: { REWARD_ACK_WAIT: '2s', REWARD_JUDGE_MAX_ATTEMPTS: '20' },
  policy: { POLICY_ROLLOUT_ACK_WAIT: '2s', POLICY_STALE_RETRY_DELAY: '1s' },
  learner: { LEARNER_ACK_WAIT: '2s' },
} as const;

/**
 * Starts judge-server → reward-service → policy-server-0…n-1 → learner (the learner starts or
 * resumes the run of `o.learner.runConfigFile` at boot).
 */
export async function startChildStack(o: ResolvedStackOptions): Promise<ChildStack> {
  const slots: Slot[] = [];
  const launch = async (name: string, bin: string, env: Record<string, string>): Promise<Slot> => {
    const slot: Slot = {
      name,
      bin,
      env,
      child: startChildService(bin, env),
      killing: false,
      exitNote: undefined,
      past: '',
    };
    watch(slot);
    slots.push(slot);
    await slot.child.address;
    return slot;
  };
  const watch = (slot: Slot): void => {
    const child = slot.child;
    void child.exited.then((code) => {
      if (slot.child === child && !slot.killing && slot.exitNote === undefined && !stopping) {
        slot.exitNote = `${slot.name} exited on its own (code ${code})`;
      }
    });
  };
  let stopping = false;
  let startRetries = 0;
  try {
    const judge = await launch('judge-server', 'judge-server', judgeServerEnv(o));
    const judgeAddress = await judge.child.address;
    // A restarted judge must come back where the reward-service looks for it.
    judge.env = { ...judge.env, JUDGE_PORT: judgeAddress.slice(judgeAddress.lastIndexOf(':') + 1) };
    await launch('reward-service', 'reward-service', {
      ...rewardServiceEnv(o, judgeAddress),
      ...CHAOS_SERVICE_ENV.reward,
    });
    for (let i = 0; i < (o.policyReplicas ?? 1); i++) {
      await launch(`policy-server-${i}`, 'policy-server', {
        ...policyServerEnv(o, i),
        ...CHAOS_SERVICE_ENV.policy,
      });
    }
    await launch('learner', 'learner', { ...learnerEnv(o), ...CHAOS_SERVICE_ENV.learner });
  } catch (error) {
    stopping = true;
    await Promise.all(slots.map((s) => terminate(s)));
    throw error;
  }

  const slotOf = (name: string): Slot => {
    const slot = slots.find((s) => s.name === name);
    if (slot === undefined) throw new Error(`no service ${name}`);
    return slot;
  };
  return {
    names: slots.map((s) => s.name),
    async kill(name) {
      const slot = slotOf(name);
      slot.killing = true;
      slot.child.proc.kill('SIGKILL');
      await slot.child.exited;
    },
    async restart(name) {
      const slot = slotOf(name);
      // A service that starts while nats-server is down exits (its first connect fails); like a
      // pod's restart policy, start it again.
      for (let attempt = 1; ; attempt++) {
        slot.past = `${slot.past}${slot.child.stderr()}`.slice(-4_000);
        slot.child = startChildService(slot.bin, slot.env);
        try {
          await slot.child.address;
          slot.killing = false;
          watch(slot);
          return;
        } catch (error) {
          if (attempt >= 10) throw error;
          startRetries++;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    },
    startRetries: () => startRetries,
    stderrOf: (name) => slotOf(name).child.stderr(),
    unexpectedExit: () => slots.find((s) => s.exitNote !== undefined)?.exitNote,
    stderrTails(chars = 1_500) {
      return slots.map((s) => `--- ${s.name}\n${`${s.past}${s.child.stderr()}`.slice(-chars)}`).join('\n');
    },
    async stop() {
      stopping = true;
      for (const s of [...slots].reverse()) await terminate(s);
    },
  };
}

async function terminate(slot: Slot): Promise<void> {
  const { proc, exited } = slot.child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  slot.killing = true;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
