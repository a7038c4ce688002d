import type { ExecutionProviderInfo } from '@verdict/graph';
import type { judgeV1 } from '@verdict/proto';
import { unary } from '@verdict/runtime';
import type { JudgeEngine } from '../engine/judge-engine.js';

export interface JudgeInfoDeps {
  /** The loaded engine; undefined while the model loads. */
  readonly engine: () => JudgeEngine | undefined;
  readonly executionProvider: () => ExecutionProviderInfo | undefined;
  readonly maxBatchSize: number;
}

/** gRPC JudgeInfoService: readiness details (model, template, limits, execution provider). */
export function createJudgeInfoHandlers(deps: JudgeInfoDeps) {
  return {
    getJudgeInfo: unary<judgeV1.GetJudgeInfoRequest, judgeV1.GetJudgeInfoResponse>(async () => {
      const engine = deps.engine();
      const provider = deps.executionProvider();
      return {
        ready: engine !== undefined,
        judgeModelId: engine?.modelId ?? '',
        defaultTemplateName: engine?.defaultTemplate.name ?? '',
        maxPromptTokens: engine?.maxPromptTokens.limit ?? 0,
        maxBatchSize: deps.maxBatchSize,
        executionProvider:
          provider === undefined
            ? undefined
            : {
                requested: provider.requested,
                active: provider.active,
                fallbackReason: provider.fallbackReason ?? '',
              },
      };
    }),
  };
}
