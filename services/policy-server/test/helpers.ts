import { commonV1, policyV1 } from '@verdict/proto';
import { createGrpcClient, createStderrLogger, silentLogger } from '@verdict/runtime';
import { createPolicyApp, type PolicyApp, type PolicyAppDeps } from '../src/app.js';
import { loadPolicyConfig } from '../src/config.js';
import { stories260kDir } from './fixture.js';

export async function startPolicy(
  env: Record<string, string> = {},
  deps: PolicyAppDeps = {},
): Promise<{ app: PolicyApp; address: string }> {
  const config = loadPolicyConfig({
    POLICY_MODEL_DIR: stories260kDir(),
    POLICY_PORT: '0',
    POLICY_HOST: '127.0.0.1',
    POLICY_GRACE_TIMEOUT: '5s',
    ...env,
  });
  // POLICY_TEST_LOG=debug shows the servers' logs.
  const level = process.env['POLICY_TEST_LOG'];
  const logger =
    level === 'debug' || level === 'info' ? createStderrLogger('policy-test', level) : silentLogger;
  const app = createPolicyApp(config, { logger, ...deps });
  const { address } = await app.start();
  return { app, address };
}

export function policyClient(address: string) {
  return createGrpcClient(policyV1.PolicyServiceClient, address, { defaultDeadlineMs: 60_000 });
}

export interface Sequence {
  ids: number[];
  logprobs: number[];
  text: string;
  versions: Set<bigint>;
  chunks: number;
  promptIds: number[];
  finishReason: commonV1.FinishReason;
}

/** Collects a Generate stream into one Sequence per `${prompt}/${sample}`, checking chunk invariants. */
export async function collect(
  stream: AsyncIterable<policyV1.GenerateResponse>,
  onChunk?: (chunk: policyV1.GenerateResponse) => void,
): Promise<Map<string, Sequence>> {
  const out = new Map<string, Sequence>();
  for await (const c of stream) {
    onChunk?.(c);
    const key = `${c.promptIndex}/${c.sampleIndex}`;
    let s = out.get(key);
    if (s === undefined) {
      s = {
        ids: [],
        logprobs: [],
        text: '',
        versions: new Set(),
        chunks: 0,
        promptIds: [],
        finishReason: commonV1.FinishReason.FINISH_REASON_UNSPECIFIED,
      };
      out.set(key, s);
    }
    if (s.finishReason !== commonV1.FinishReason.FINISH_REASON_UNSPECIFIED) {
      throw new Error(`chunk after the final chunk of ${key}`);
    }
    if (c.tokenIds.length !== c.logprobs.length) throw new Error('token_ids and logprobs differ in length');
    s.chunks++;
    s.ids.push(...c.tokenIds);
    s.logprobs.push(...c.logprobs);
    s.text += c.textDelta;
    s.versions.add(c.policyVersion);
    s.promptIds.push(...c.promptTokenIds);
    s.finishReason = c.finishReason;
  }
  return out;
}

export function generateRequest(
  prompts: string[],
  sampling: Partial<commonV1.SamplingParams> = {},
  extra: Partial<policyV1.GenerateRequest> = {},
): policyV1.GenerateRequest {
  return {
    requestId: 'test',
    prompts: prompts.map((text) => ({ text, applyChatTemplate: false })),
    sampling: {
      temperature: 0,
      topP: 0,
      topK: 0,
      maxNewTokens: 16,
      stopTokenIds: [],
      stopStrings: [],
      ...sampling,
    },
    samplesPerPrompt: 1,
    minPolicyVersion: 0n,
    ...extra,
  };
}
