import { createHash } from 'node:crypto';
import { PLAIN_TEMPLATE, renderStudentPrompt } from '@verdict/data';
import type { rewardV1, rolloutV1 } from '@verdict/proto';
import { buildRolloutRequest, groupId } from '../consumers/rollout-codec.js';
import type { QuestionPool } from '../domain/question-pool.js';
import type { ValidRunConfig } from '../run-config/run-config.js';

/** One round of a step's rollout requests and the groups the collector must expect. */
export interface StepRequests {
  readonly requests: rolloutV1.RolloutRequested[];
  readonly groups: { groupId: string; size: number }[];
}

export interface StepRequestOptions {
  readonly config: ValidRunConfig;
  readonly pool: QuestionPool;
  readonly encode: (text: string) => number[];
  /** The reward config the reward-service mixes these rollouts with (the run's, or lowered μ). */
  readonly reward: rewardV1.RewardConfig;
  readonly step: number;
  /** 0 = the step's batch; ≥ 1 = dynamic sampling's extra draws. */
  readonly round: number;
  /** Minimum weights version to generate with (bounded staleness). */
  readonly policyVersionWanted: number;
}

/** Deterministic per-question sampling seed (sample i of the group uses seed + i). */
export function sampleSeed(runSeed: number, step: number, question: number): number {
  const h = createHash('sha256').update(`${runSeed}:${step}:${question}`).digest();
  return h.readUInt32LE(0) * 1024;
}

/**
 * The G requests of each question of one round. Question indexes continue across rounds
 * (round r holds r·promptsPerStep … (r+1)·promptsPerStep − 1), so every rollout id, group id and
 * seed is a pure function of (run, step, round, question, sample): a resumed step asks the same.
 */
export function buildStepRequests(o: StepRequestOptions): StepRequests {
  const { config } = o;
  const requests: rolloutV1.RolloutRequested[] = [];
  const groups: { groupId: string; size: number }[] = [];
  const offset = o.round * config.promptsPerStep;
  o.pool.questionsForStep(o.step, o.round).forEach((q, i) => {
    const qi = offset + i;
    const rendered = renderStudentPrompt(q.question, PLAIN_TEMPLATE);
    const promptText = rendered.kind === 'plain' ? rendered.text : '';
    const promptIds = o.encode(promptText);
    const seed = sampleSeed(config.seed, o.step, qi);
    groups.push({ groupId: groupId(config.runId, o.step, qi), size: config.groupSize });
    for (let gi = 0; gi < config.groupSize; gi++) {
      requests.push(
        buildRolloutRequest({
          runId: config.runId,
          step: o.step,
          questionIndex: qi,
          question: q,
          promptText,
          promptIds,
          groupSize: config.groupSize,
          groupIndex: gi,
          sampling: config.rolloutSampling,
          reward: o.reward,
          seed: seed + gi,
          policyVersionWanted: o.policyVersionWanted,
        }),
      );
    }
  });
  return { requests, groups };
}
