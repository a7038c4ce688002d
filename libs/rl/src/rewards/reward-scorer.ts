import { assertRewardMixConfig, mixRewardComponents, planRewardTerms } from './reward-mix.js';
import type { MixedReward, RewardComponent, RewardMixConfig, RewardTerm } from './reward-types.js';

type MaybePromise<T> = T | Promise<T>;

/** Computes each term. Thrown errors become ERROR components, never a 0 reward. */
export interface RewardScorers<Gold, Context> {
  readonly vr?: (gold: Gold, context: Context) => MaybePromise<RewardComponent>;
  readonly judge?: (context: Context) => MaybePromise<RewardComponent>;
  readonly rerank?: (context: Context) => MaybePromise<RewardComponent>;
}

export type RewardSample<Gold, Context> =
  | { readonly source: 'labeled'; readonly gold: Gold; readonly context: Context }
  | { readonly source: 'unlabeled'; readonly context: Context };

export interface RewardScorer<Gold, Context> {
  score(sample: RewardSample<Gold, Context>): Promise<MixedReward>;
}

/**
 * Runs only the planned scorers for a sample and mixes them. The gold answer is read
 * (and handed to the VR scorer) only when the VR term is planned, so with λ = 0 it is
 * never read at all.
 */
export function createRewardScorer<Gold, Context>(
  config: RewardMixConfig,
  scorers: RewardScorers<Gold, Context>,
): RewardScorer<Gold, Context> {
  assertRewardMixConfig(config);
  const missing = (['vr', 'judge', 'rerank'] as const).filter((t) => config.weights[t] > 0 && !scorers[t]);
  if (missing.length > 0) throw new RangeError(`no scorer for weighted term(s): ${missing.join(', ')}`);

  async function run(term: RewardTerm, call: () => MaybePromise<RewardComponent>): Promise<RewardComponent> {
    try {
      return await call();
    } catch (error) {
      return {
        status: 'ERROR',
        detail: `${term} scorer threw: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  return {
    async score(sample) {
      const plan = planRewardTerms(config, sample.source);
      const entries = await Promise.all(
        plan.map(async ({ term }): Promise<[RewardTerm, RewardComponent]> => {
          if (term === 'vr') {
            if (sample.source !== 'labeled')
              throw new Error('unreachable: VR planned for an unlabeled question');
            const vr = scorers.vr!;
            return [term, await run(term, () => vr(sample.gold, sample.context))];
          }
          const scorer = scorers[term]!;
          return [term, await run(term, () => scorer(sample.context))];
        }),
      );
      return mixRewardComponents(config, sample.source, Object.fromEntries(entries));
    },
  };
}
