import type { rewardV1 } from '@verdict/proto';
import { validateRewardMixConfig } from '@verdict/rl';
import { type CallContext, unary, VerdictError } from '@verdict/runtime';
import type { RewardSettings, SampleToScore } from '../domain/score-sample.js';

export interface RewardRpcDeps {
  readonly defaults: RewardSettings;
  readonly score: (sample: SampleToScore, settings: RewardSettings) => Promise<rewardV1.RewardResult>;
  readonly maxItems: number;
}

/** A per-call RewardConfig over the server defaults; bad weights → INVALID_ARGUMENT naming the field. */
function settingsFor(config: rewardV1.RewardConfig | undefined, defaults: RewardSettings): RewardSettings {
  if (config === undefined) return defaults;
  const w = config.weights;
  const mix = {
    weights:
      w === undefined ? defaults.mix.weights : { vr: w.lambdaVr, judge: w.muJudge, rerank: w.rhoRerank },
    judgeOnLabeled: config.labeled?.judge ?? defaults.mix.judgeOnLabeled,
  };
  const problems = validateRewardMixConfig(mix);
  if (problems.length > 0) {
    throw new VerdictError('INVALID_ARGUMENT', `config.weights: ${problems.join('; ')}`, {
      field: 'config.weights',
    });
  }
  if (mix.weights.rerank !== 0) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      'config.weights.rho_rerank: rerank is not implemented (use 0)',
      {
        field: 'config.weights.rho_rerank',
      },
    );
  }
  if (!(config.judgeAbstainBand >= 0 && config.judgeAbstainBand <= 0.5)) {
    throw new VerdictError('INVALID_ARGUMENT', 'config.judge_abstain_band must be in [0, 0.5]', {
      field: 'config.judge_abstain_band',
    });
  }
  return {
    ...defaults,
    mix,
    abstainBand: config.judgeAbstainBand,
    judgeTemplateName: config.judgeTemplateName || defaults.judgeTemplateName,
  };
}

export function createRewardHandlers(deps: RewardRpcDeps) {
  const score = async (
    request: rewardV1.ScoreRequest,
    _ctx: CallContext,
  ): Promise<rewardV1.ScoreResponse> => {
    const settings = settingsFor(request.config, deps.defaults);
    if (request.items.length > deps.maxItems) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `items has ${request.items.length} entries, limit ${deps.maxItems}`,
        {
          field: 'items',
        },
      );
    }
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
    });
    const items = await Promise.all(
      request.items.map(async (item) => ({
        id: item.id,
        result: await deps.score(
          {
            id: item.id,
            question: item.question,
            completion: item.completion,
            labeled: item.labeled,
            gold: () => item.goldAnswer,
          },
          settings,
        ),
      })),
    );
    return { items };
  };
  return { score: unary(score) };
}
