import type { ExecutionProviderInfo } from '@verdict/graph';
import type { FinishReason } from '@verdict/models';
import { maxSequenceLength } from '@verdict/models';
import { commonV1, type policyV1 } from '@verdict/proto';
import { serverStream, unary, VerdictError } from '@verdict/runtime';
import type { ModelHolder } from '../domain/model-holder.js';
import type { Generator, ServedModel } from '../generation/generator.js';
import { buildSequenceSpecs, type RequestLimits } from '../generation/sequence-specs.js';

export function toWireFinishReason(reason: FinishReason): commonV1.FinishReason {
  switch (reason) {
    case 'stop_token':
      return commonV1.FinishReason.FINISH_REASON_STOP_TOKEN;
    case 'stop_string':
      return commonV1.FinishReason.FINISH_REASON_STOP_STRING;
    default:
      return commonV1.FinishReason.FINISH_REASON_LENGTH;
  }
}

/**
 * Longest `request_id` accepted (characters). It is echoed in every chunk: a 1 MB id made 32
 * tokens cost 34.6 MB of replies (issue 17).
 */
export const REQUEST_ID_MAX_CHARS = 128;

export interface PolicyServiceDeps {
  readonly holder: ModelHolder<ServedModel>;
  readonly generator: Generator;
  readonly limits: RequestLimits;
  readonly modelId: string;
  readonly maxBatchSize: number;
  /** Requested and active execution provider of the loaded model (undefined before it loads). */
  readonly executionProvider?: () => ExecutionProviderInfo | undefined;
}

function providerToWire(info: ExecutionProviderInfo | undefined): commonV1.ExecutionProviderInfo | undefined {
  if (info === undefined) return undefined;
  return { requested: info.requested, active: info.active, fallbackReason: info.fallbackReason ?? '' };
}

/** gRPC PolicyService: wire ↔ generator. Every chunk carries the version its sequence runs on. */
export function createPolicyService(deps: PolicyServiceDeps) {
  const { holder, generator } = deps;
  return {
    generate: serverStream<policyV1.GenerateRequest, policyV1.GenerateResponse>(
      async function* (request, ctx) {
        if (request.requestId.length > REQUEST_ID_MAX_CHARS) {
          throw new VerdictError(
            'INVALID_ARGUMENT',
            `request_id: must be at most ${REQUEST_ID_MAX_CHARS} characters (got ${request.requestId.length})`,
            { field: 'request_id' },
          );
        }
        const model = holder.model;
        if (model === undefined) throw new VerdictError('UNAVAILABLE', 'no policy weights are loaded yet');
        const { specs, refs } = buildSequenceSpecs(model, request, deps.limits);
        const handle = generator.start(specs, { minVersion: request.minPolicyVersion, signal: ctx.signal });
        const requestId = request.requestId;
        const version = handle.version;
        const started = new Set<number>();
        // The first chunk of each sequence carries its prompt ids.
        const promptIdsOnce = (index: number): number[] => {
          if (started.has(index)) return [];
          started.add(index);
          return [...specs[index]!.promptIds];
        };
        for await (const e of handle.events) {
          const ref = refs[e.index]!;
          if (e.kind === 'token') {
            yield {
              requestId,
              promptIndex: ref.promptIndex,
              sampleIndex: ref.sampleIndex,
              tokenIds: [e.id],
              logprobs: [e.logprob],
              textDelta: e.textDelta,
              finishReason: commonV1.FinishReason.FINISH_REASON_UNSPECIFIED,
              policyVersion: version,
              promptTokenIds: promptIdsOnce(e.index),
            };
          } else {
            yield {
              requestId,
              promptIndex: ref.promptIndex,
              sampleIndex: ref.sampleIndex,
              tokenIds: [],
              logprobs: [],
              textDelta: e.result.textDelta,
              finishReason: toWireFinishReason(e.result.finishReason),
              policyVersion: version,
              promptTokenIds: promptIdsOnce(e.index),
            };
          }
        }
      },
    ),
    getModelInfo: unary<policyV1.GetModelInfoRequest, policyV1.GetModelInfoResponse>(async () => {
      const model = holder.model;
      const version = holder.version;
      if (model === undefined || version === undefined) {
        return {
          ready: false,
          vocabSize: 0,
          maxContextTokens: 0,
          eosTokenIds: [],
          maxBatchSize: deps.maxBatchSize,
          executionProvider: providerToWire(deps.executionProvider?.()),
        };
      }
      const eos = new Set([
        ...model.config.eosTokenIds,
        ...(model.tokenizer.eosId === undefined ? [] : [model.tokenizer.eosId]),
      ]);
      return {
        model: { modelId: deps.modelId, version },
        ready: true,
        vocabSize: model.config.vocabSize,
        maxContextTokens: maxSequenceLength(model.config).limit,
        eosTokenIds: [...eos],
        maxBatchSize: deps.maxBatchSize,
        executionProvider: providerToWire(deps.executionProvider?.()),
      };
    }),
  };
}
