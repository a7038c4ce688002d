import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { commonV1, rolloutV1 } from '@verdict/proto';
import { type Messaging, silentLogger } from '@verdict/runtime';
import { createRewardServiceApp, type RewardServiceApp, type RewardServiceDeps } from '../src/app.js';
import { loadRewardServiceConfig } from '../src/config.js';
import { ROLLOUTS_STREAM } from '../src/streams.js';

/**
 * A reward-service app for in-process tests: 127.0.0.1 on a free port, a 5 s ack wait, telemetry
 * off, a silent logger unless `deps` gives one; `env` (NATS_URL, JUDGE_ADDRESS, weights...) on top.
 */
export function createTestRewardApp(
  env: Record<string, string>,
  deps: RewardServiceDeps = {},
): RewardServiceApp {
  const config = loadRewardServiceConfig({
    REWARD_HOST: '127.0.0.1',
    REWARD_PORT: '0',
    REWARD_ACK_WAIT: '5s',
    ...env,
  });
  return createRewardServiceApp(config, { logger: silentLogger, telemetry: false, ...deps });
}

export const JUDGE_BIN = fileURLToPath(new URL('../../judge-server/bin/judge-server.mjs', import.meta.url));

/** Runs the judge-server package's bin as a child process (services never import each other). */
export async function startJudgeServerProcess(
  modelDir: string,
): Promise<{ address: string; child: ChildProcess }> {
  return startServiceProcess(JUDGE_BIN, {
    JUDGE_MODEL_DIR: modelDir,
    JUDGE_HOST: '127.0.0.1',
    JUDGE_PORT: '0',
    JUDGE_DEFAULT_TEMPLATE: 'plain',
    LOG_LEVEL: 'warn',
  });
}

export const REWARD_BIN = fileURLToPath(new URL('../bin/reward-service.mjs', import.meta.url));

/** Spawns a service bin and resolves with the address it prints ("serving on host:port"). */
export async function startServiceProcess(
  bin: string,
  env: Record<string, string>,
): Promise<{ address: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [bin], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /serving on (\S+)/.exec(buffered);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`judge-server exited with ${code}: ${buffered}`)));
  });
  return { address, child };
}

export function generated(
  rolloutId: string,
  options: { labeled: boolean; gold?: string; completion: string },
): rolloutV1.RolloutGenerated {
  return {
    request: {
      rolloutId,
      runId: 'run-1',
      step: 1n,
      groupId: `g-${rolloutId}`,
      groupIndex: 0,
      groupSize: 1,
      questionId: `toy/${rolloutId}`,
      question: 'Tom has 2 apples and buys 2 more. How many apples does he have?',
      promptText: 'Question: Tom has 2 apples and buys 2 more.',
      promptTokenIds: [],
      labeled: options.labeled,
      ...(options.gold === undefined ? {} : { goldAnswer: options.gold }),
      policyVersionWanted: 0n,
    },
    promptTokenIds: [1, 2, 3],
    completionTokenIds: [4, 5],
    logprobs: [-0.5, -0.25],
    completionText: options.completion,
    finishReason: commonV1.FinishReason.FINISH_REASON_STOP_TOKEN,
    policyVersion: 0n,
    generatorId: 'test',
  };
}

export async function waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Records every message on `verdict.rollout.scored`, by rollout id in arrival order (a duplicate
 * publish shows as a second entry), through a durable test consumer. `stop()` ends the consumer.
 */
export interface ScoredCollector {
  readonly scored: Map<string, rolloutV1.RolloutScored[]>;
  stop(): Promise<void>;
}

export async function collectScored(m: Messaging): Promise<ScoredCollector> {
  await m.ensureStream(ROLLOUTS_STREAM);
  await m.ensureConsumer({
    stream: ROLLOUTS_STREAM.name,
    name: 'test-scored',
    filterSubject: 'verdict.rollout.scored',
  });
  const scored = new Map<string, rolloutV1.RolloutScored[]>();
  const abort = new AbortController();
  const running = m.consume({
    stream: ROLLOUTS_STREAM.name,
    consumer: 'test-scored',
    signal: abort.signal,
    handler: (msg) => {
      const s = rolloutV1.RolloutScored.decode(msg.data);
      const id = s.generated?.request?.rolloutId ?? '?';
      scored.set(id, [...(scored.get(id) ?? []), s]);
      return 'ack';
    },
  });
  return {
    scored,
    async stop() {
      abort.abort();
      await running;
    },
  };
}

/**
 * The reward-service consumer's state once every delivered message is acked (each ack follows its
 * scored publish, so a test that saw the publish polls for the ack instead of racing it), or the
 * last state seen after `timeoutMs`: the caller's assertion then names what is still pending.
 */
export async function settledRewardConsumer(messaging: Messaging, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await messaging.jetstreamManager.consumers.info(ROLLOUTS_STREAM.name, 'reward-service');
    if ((info.num_ack_pending === 0 && info.num_pending === 0) || Date.now() > deadline) return info;
    await new Promise((r) => setTimeout(r, 50));
  }
}
