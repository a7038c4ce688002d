import type { rewardV1 } from '@verdict/proto';
import { type CallContext, unary, VerdictError } from '@verdict/runtime';
import { rewardSettingsFor } from '../domain/reward-settings.js';
import type { RewardSettings, SampleToScore } from '../domain/score-sample.js';

export interface RewardRpcDeps {
  readonly defaults: RewardSettings;
  /** Scores the samples of one group together (ranked for the rerank term when ρ > 0). */
  readonly scoreGroup: (
    samples: readonly SampleToScore[],
    settings: RewardSettings,
  ) => Promise<rewardV1.RewardResult[]>;
  readonly maxItems: number;
}

export function createRewardHandlers(deps: RewardRpcDeps) {
  const score = async (
    request: rewardV1.ScoreRequest,
    _ctx: CallContext,
  ): Promise<rewardV1.ScoreResponse> => {
    const settings = rewardSettingsFor(request.config, deps.defaults);
    if (request.items.length > deps.maxItems) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `items has ${request.items.length} entries, limit ${deps.maxItems}`,
        {
          field: 'items',
        },
      );
    }
    const rerank = settings.mix.weights.rerank > 0;
    const seen = new Set<string>();
    request.items.forEach((item, i) => {
      if (seen.has(item.id)) {
        throw new VerdictError('INVALID_ARGUMENT', `duplicate item id ${JSON.stringify(item.id)}`, {
          field: `items[${i}].id`,
        });
      }
      seen.add(item.id);
      if (item.question.trim() === '') {
        throw new VerdictError('INVALID_ARGUMENT', 'question must not be empty', {
          field: `items[${i}].question`,
        });
      }
      if (rerank && item.groupId === '') {
        throw new VerdictError(
          'INVALID_ARGUMENT',
          'group_id must be set when rho_rerank > 0 (the rerank term ranks the samples of one group)',
          { field: `items[${i}].group_id` },
        );
      }
    });
    // ρ = 0: every item on its own (as before). ρ > 0: items sharing a group_id are ranked
    // together, within this request only.
    const groups = new Map<string, number[]>();
    request.items.forEach((item, i) => {
      const key = rerank ? `g:${item.groupId}` : `i:${i}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const results: rewardV1.RewardResult[] = new Array(request.items.length);
    await Promise.all(
      [...groups.values()].map(async (indices) => {
        const samples = indices.map((i): SampleToScore => {
          const item = request.items[i]!;
          return {
            id: item.id,
            question: item.question,
            completion: item.completion,
            labeled: item.labeled,
            gold: () => item.goldAnswer,
          };
        });
        const scored = await deps.scoreGroup(samples, settings);
        indices.forEach((i, k) => {
          results[i] = scored[k]!;
        });
      }),
    );
    return { items: request.items.map((item, i) => ({ id: item.id, result: results[i]! })) };
  };
  return { score: unary(score) };
}
