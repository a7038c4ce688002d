// The servers the load benches drive: each one a real child process (its bin, as deployed) on a free
// port, so the RSS sampled is the server's alone and the client's work runs in another process.
import { judgeV1, policyV1 } from '@verdict/proto';
import { createGrpcClient, VerdictError } from '@verdict/runtime';
import { startChildService } from '../../support/child-service.js';
import type { LoadTarget } from './load-generator.js';

export interface RunningTarget extends LoadTarget {
  stop(): Promise<void>;
}

/** Deadline of one offered call: longer than any bounded queue here drains, so a timeout is a finding. */
const CALL_DEADLINE_MS = 60_000;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms`);
}

async function stopChild(child: ReturnType<typeof startChildService>): Promise<void> {
  if (child.proc.exitCode === null) child.proc.kill('SIGTERM');
  await child.exited;
}

/** A judge-server serving `modelDir`; one call = one JudgeBatch of `itemsPerCall` items. */
export async function startJudgeTarget(
  name: string,
  modelDir: string,
  env: Record<string, string>,
  itemsPerCall: number,
): Promise<RunningTarget> {
  const child = startChildService('judge-server', {
    JUDGE_MODEL_DIR: modelDir,
    JUDGE_HOST: '127.0.0.1',
    JUDGE_PORT: '0',
    LOG_LEVEL: process.env.LOAD_SERVER_LOG_LEVEL ?? 'warn',
    ...env,
  });
  const address = await child.address;
  const client = createGrpcClient(judgeV1.JudgeServiceClient, address, {
    defaultDeadlineMs: CALL_DEADLINE_MS,
  });
  const info = createGrpcClient(judgeV1.JudgeInfoServiceClient, address);
  await until(`${name} (judge-server)`, async () => (await info.unary('getJudgeInfo', {})).ready);
  info.close();
  const request = (seq: number): judgeV1.JudgeBatchRequest => ({
    items: Array.from({ length: itemsPerCall }, (_, i) => ({
      id: `${seq}-${i}`,
      question: `Tom has ${seq % 97} apples and buys ${i} more. How many apples does he have?`,
      solution: `He has ${seq % 97} and ${i} more so he has ${(seq % 97) + i} apples. #### ${(seq % 97) + i}`,
      templateName: '',
    })),
  });
  return {
    name,
    unit: 'items',
    unitsPerCall: itemsPerCall,
    pid: child.proc.pid,
    async call(seq) {
      const { results } = await client.unary('judgeBatch', request(seq));
      // An item the server gave up on (TIMEOUT, OVERLOADED) fails the call under that status.
      const bad = results.find((r) => r.status !== judgeV1.JudgeStatus.JUDGE_STATUS_OK);
      if (bad !== undefined) throw { code: `item ${judgeV1.JudgeStatus[bad.status] ?? bad.status}` };
    },
    async stop() {
      client.close();
      await stopChild(child);
    },
  };
}

/**
 * A policy-server serving `modelDir`; one call = one Generate of `sequencesPerCall` greedy samples of
 * one prompt, each exactly `maxNewTokens` long (no stop tokens), read to the end of the stream.
 */
export async function startPolicyTarget(
  name: string,
  modelDir: string,
  env: Record<string, string>,
  options: { sequencesPerCall: number; maxNewTokens: number },
): Promise<RunningTarget> {
  const child = startChildService('policy-server', {
    POLICY_MODEL_DIR: modelDir,
    POLICY_HOST: '127.0.0.1',
    POLICY_PORT: '0',
    LOG_LEVEL: process.env.LOAD_SERVER_LOG_LEVEL ?? 'warn',
    ...env,
  });
  const address = await child.address;
  const client = createGrpcClient(policyV1.PolicyServiceClient, address, {
    defaultDeadlineMs: CALL_DEADLINE_MS,
  });
  await until(`${name} (policy-server)`, async () => (await client.unary('getModelInfo', {})).ready);
  return {
    name,
    unit: 'sequences',
    unitsPerCall: options.sequencesPerCall,
    pid: child.proc.pid,
    async call(seq) {
      let finished = 0;
      const stream = client.serverStream('generate', {
        requestId: `load-${seq}`,
        prompts: [{ text: `Once upon a time ${seq % 97}`, applyChatTemplate: false }],
        sampling: {
          temperature: 0,
          topP: 0,
          topK: 0,
          maxNewTokens: options.maxNewTokens,
          stopTokenIds: [],
          stopStrings: [],
        },
        samplesPerPrompt: options.sequencesPerCall,
        minPolicyVersion: 0n,
      });
      for await (const chunk of stream) if (chunk.finishReason !== 0) finished++;
      if (finished !== options.sequencesPerCall) {
        throw new VerdictError('INTERNAL', `${finished} of ${options.sequencesPerCall} sequences finished`);
      }
    },
    async stop() {
      client.close();
      await stopChild(child);
    },
  };
}
