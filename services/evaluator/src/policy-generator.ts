import type { EvalPrompt, SampleSettings, SuiteGenerator } from '@verdict/data';
import type { policyV1 } from '@verdict/proto';
import { type GrpcClient, isVerdictError, VerdictError } from '@verdict/runtime';

export type PolicyClient = GrpcClient<policyV1.PolicyServiceClient>;

export interface PolicyGeneratorOptions {
  readonly maxNewTokens: number;
  readonly generateTimeoutMs: number;
  /** Identity from GetModelInfo, recorded in results. */
  readonly modelId: string;
  readonly signal?: AbortSignal;
  /** A prompt the policy-server refused (e.g. longer than its context): scored as an empty answer. */
  readonly onPromptRejected?: (problemId: string, error: VerdictError) => void;
}

export interface PolicyGenerator extends SuiteGenerator {
  /** Weights versions that produced the outputs so far (a hot-swap mid-run shows as two). */
  readonly versionsSeen: ReadonlySet<bigint>;
}

/**
 * The harness's model side over the policy-server's `Generate` stream: one call per batch
 * (greedy: temperature 0; maj@k: `samples_per_prompt` = k with seed, sample i = seed + i on the
 * server). Chunks of different sequences interleave; each sequence's text is the concatenation
 * of its `text_delta`s, complete at the chunk with a finish reason.
 */
export function createPolicyGenerator(
  client: PolicyClient,
  options: PolicyGeneratorOptions,
): PolicyGenerator {
  const versionsSeen = new Set<bigint>();
  let requestSeq = 0;

  async function call(
    batch: readonly EvalPrompt[],
    sampling: { temperature: number; topP: number; topK: number; seed?: number },
    count: number,
  ): Promise<string[][]> {
    const texts = batch.map(() => Array.from({ length: count }, () => ''));
    const finished = batch.map(() => Array.from({ length: count }, () => false));
    const request: policyV1.GenerateRequest = {
      requestId: `evaluator-${process.pid}-${++requestSeq}`,
      prompts: batch.map((b) => ({ text: b.prompt, applyChatTemplate: false })),
      sampling: {
        temperature: sampling.temperature,
        topP: sampling.topP,
        topK: sampling.topK,
        ...(sampling.seed !== undefined ? { seed: BigInt(sampling.seed) } : {}),
        maxNewTokens: options.maxNewTokens,
        stopTokenIds: [],
        stopStrings: [],
      },
      samplesPerPrompt: count,
      minPolicyVersion: 0n,
    };
    const stream = client.serverStream('generate', request, {
      deadlineMs: options.generateTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for await (const chunk of stream) {
      const row = texts[chunk.promptIndex];
      if (row === undefined || chunk.sampleIndex >= count) {
        throw new VerdictError(
          'INTERNAL',
          `policy-server answered prompt ${chunk.promptIndex} sample ${chunk.sampleIndex} of ${batch.length}×${count}`,
        );
      }
      row[chunk.sampleIndex] += chunk.textDelta;
      versionsSeen.add(chunk.policyVersion);
      if (chunk.finishReason !== 0) finished[chunk.promptIndex]![chunk.sampleIndex] = true;
    }
    const open = finished.findIndex((r) => r.some((f) => !f));
    if (open >= 0)
      throw new VerdictError('INTERNAL', `policy-server stream ended before prompt ${open} finished`);
    return texts;
  }

  const isPromptField = (field: string | undefined): boolean =>
    field !== undefined && /^prompts\[\d+\]/.test(field);

  /** A batch refused as a whole is retried prompt by prompt, so one bad prompt costs one answer. */
  async function callTolerant(
    batch: readonly EvalPrompt[],
    sampling: { temperature: number; topP: number; topK: number; seed?: number },
    count: number,
  ): Promise<string[][]> {
    try {
      return await call(batch, sampling, count);
    } catch (e) {
      if (!isVerdictError(e) || e.code !== 'INVALID_ARGUMENT') throw e;
      // Only a refused prompt is scored as no answer. A refused request (sampling.max_new_tokens
      // over the server's limit, top_k over its vocabulary...) would refuse every prompt: the
      // run fails with that error instead of reporting OK with accuracy 0 (issue 17).
      if (!isPromptField(e.field)) throw e;
      if (batch.length === 1) {
        options.onPromptRejected?.(batch[0]!.problem.id, e);
        return [Array.from({ length: count }, () => '')];
      }
      const out: string[][] = [];
      for (const one of batch) out.push(...(await callTolerant([one], sampling, count)));
      return out;
    }
  }

  return {
    model: options.modelId,
    maxNewTokens: options.maxNewTokens,
    versionsSeen,
    get modelVersion() {
      return versionsSeen.size === 0
        ? undefined
        : [...versionsSeen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(',');
    },
    async greedy(batch) {
      const out = await callTolerant(batch, { temperature: 0, topP: 1, topK: 0 }, 1);
      return out.map((r) => r[0]!);
    },
    async sample(batch, s: SampleSettings) {
      return callTolerant(
        batch,
        { temperature: s.temperature, topP: s.topP, topK: s.topK, seed: s.seed },
        s.count,
      );
    },
  };
}
