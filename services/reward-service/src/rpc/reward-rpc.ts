import type { rewardV1 } from '@verdict/proto';
import { type CallContext, clientText, unary, VerdictError } from '@verdict/runtime';
import { rewardSettingsFor, unplannableSource } from '../domain/reward-settings.js';
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

/**
 * Sizes of one Score item (README, "Limits"), checked before any item is scored. Ids are echoed
 * in results and errors; question and completion go to the judge and through answer extraction.
 */
export const SCORE_ITEM_LIMITS = {
  idChars: 256,
  groupIdChars: 256,
  questionChars: 65_536,
  completionChars: 262_144,
  goldAnswerChars: 1024,
} as const;

function checkItemSizes(item: rewardV1.ScoreItem, i: number): void {
  const L = SCORE_ITEM_LIMITS;
  const fields: [string, string | undefined, number][] = [
    ['id', item.id, L.idChars],
    ['group_id', item.groupId, L.groupIdChars],
    ['question', item.question, L.questionChars],
    ['completion', item.completion, L.completionChars],
    ['gold_answer', item.goldAnswer, L.goldAnswerChars],
  ];
  for (const [name, value, max] of fields) {
    if (value !== undefined && value.length > max) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `items[${i}].${name} must be at most ${max} characters (got ${value.length})`,
        { field: `items[${i}].${name}` },
      );
    }
  }
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
      checkItemSizes(item, i);
    });
    request.items.forEach((item, i) => {
      if (seen.has(item.id)) {
        throw new VerdictError(
          'INVALID_ARGUMENT',
          `duplicate item id ${clientText(JSON.stringify(item.id))}`,
          {
            field: `items[${i}].id`,
          },
        );
      }
      // A source the weights give no term (λ = 1, μ = ρ = 0 and an unlabeled item) is the
      // caller's configuration, refused here instead of failing inside reward planning.
      const unplannable = unplannableSource(settings, item.labeled ? 'labeled' : 'unlabeled');
      if (unplannable !== undefined) {
        throw new VerdictError('INVALID_ARGUMENT', `items[${i}] is ${unplannable}`, {
          field: 'config.weights',
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
      const members = groups.get(key);
      if (members === undefined) groups.set(key, [i]);
      else members.push(i);
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
            ...(item.groupId === '' ? {} : { groupId: item.groupId }),
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
