// In-test policy-servers (services never import each other): real gRPC servers on port 0 that
// implement verdict.policy.v1.PolicyService, either by a rule over the question or over
// @verdict/models generate() on a real checkpoint.
import type { LlamaModel } from '@verdict/models';
import { commonV1, policyV1 } from '@verdict/proto';
import {
  createGrpcServer,
  type GrpcServer,
  type GrpcServerTlsOptions,
  serverStream,
  silentLogger,
  unary,
  VerdictError,
} from '@verdict/runtime';

/** Produces the texts of one Generate call: [prompt][sample]. */
export type AnswerFn = (
  prompts: readonly string[],
  sampling: commonV1.SamplingParams,
  samples: number,
) => Promise<string[][]> | string[][];

export interface FakePolicyServer {
  readonly server: GrpcServer;
  readonly address: string;
  readonly calls: policyV1.GenerateRequest[];
  stop(): Promise<void>;
}

export async function startFakePolicyServer(
  answer: AnswerFn,
  options: { modelId?: string; version?: bigint; tls?: GrpcServerTlsOptions } = {},
): Promise<FakePolicyServer> {
  const calls: policyV1.GenerateRequest[] = [];
  const version = options.version ?? 7n;
  const server = createGrpcServer({
    name: 'fake-policy',
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
  });
  server.addService(policyV1.PolicyServiceService, {
    generate: serverStream<policyV1.GenerateRequest, policyV1.GenerateResponse>(async function* (req) {
      calls.push(req);
      const prompts = req.prompts.map((p) => p.text ?? '');
      const samples = Math.max(1, req.samplesPerPrompt);
      const texts = await answer(prompts, req.sampling!, samples);
      // Interleave sequences and split each text in two chunks, as a real server may.
      const halves = texts.map((row) =>
        row.map((t) => [t.slice(0, t.length >> 1), t.slice(t.length >> 1)] as const),
      );
      for (const half of [0, 1] as const) {
        for (let p = 0; p < texts.length; p++) {
          for (let s = 0; s < samples; s++) {
            yield {
              requestId: req.requestId,
              promptIndex: p,
              sampleIndex: s,
              tokenIds: [],
              logprobs: [],
              textDelta: halves[p]![s]![half],
              finishReason:
                half === 1
                  ? commonV1.FinishReason.FINISH_REASON_STOP_TOKEN
                  : commonV1.FinishReason.FINISH_REASON_UNSPECIFIED,
              policyVersion: version,
              promptTokenIds: [],
            };
          }
        }
      }
    }),
    getModelInfo: unary<policyV1.GetModelInfoRequest, policyV1.GetModelInfoResponse>(() => ({
      model: { modelId: options.modelId ?? 'test-policy', version },
      ready: true,
      vocabSize: 512,
      maxContextTokens: 512,
      eosTokenIds: [2],
      maxBatchSize: 32,
    })),
  });
  await server.start();
  return { server, address: server.address, calls, stop: async () => void (await server.stop()) };
}

/** Generate over a loaded checkpoint: sample i of every prompt uses seed + i (common.proto). */
export function modelAnswerFn(
  model: LlamaModel,
  generate: typeof import('@verdict/models').generate,
): AnswerFn {
  return async (prompts, sampling, samples) => {
    const out: string[][] = prompts.map(() => []);
    for (let i = 0; i < samples; i++) {
      const gens = await generate(model, prompts, {
        maxNewTokens: sampling.maxNewTokens,
        temperature: sampling.temperature,
        ...(sampling.temperature > 0 ? { topP: sampling.topP || 1, topK: sampling.topK } : {}),
        seed: Number(sampling.seed ?? 0n) + i,
      });
      gens.forEach((g, p) => {
        out[p]!.push(g.text);
      });
    }
    return out;
  };
}

export function rejectIf(predicate: (prompt: string) => boolean, inner: AnswerFn): AnswerFn {
  return (prompts, sampling, samples) => {
    const bad = prompts.findIndex(predicate);
    if (bad >= 0)
      throw new VerdictError('INVALID_ARGUMENT', `prompts[${bad}] is too long`, { field: `prompts[${bad}]` });
    return inner(prompts, sampling, samples);
  };
}
