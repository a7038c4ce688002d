import type { rewardV1 } from '@verdict/proto';
import { rolloutV1 } from '@verdict/proto';
import type { HandlerOutcome, MessageContext, RuntimeLogger } from '@verdict/runtime';
import type { SampleToScore } from '../domain/score-sample.js';
import { SUBJECT_ROLLOUT_SCORED, scoredMessageId } from '../streams.js';

export interface GeneratedConsumerDeps {
  readonly score: (sample: SampleToScore) => Promise<rewardV1.RewardResult>;
  readonly publish: (subject: string, data: Uint8Array, msgId: string) => Promise<{ duplicate: boolean }>;
  readonly logger: RuntimeLogger;
  readonly onScored?: (rolloutId: string, reward: rewardV1.RewardResult, duplicate: boolean) => void;
}

/**
 * verdict.rollout.generated → score → verdict.rollout.scored, acked only after the scored
 * message is stored. The scored message id is the rollout id (+ stage), so a redelivered
 * rollout (crash before the ack) publishes the same id and JetStream keeps one copy. A reward
 * that cannot be computed is published with its typed status (the learner masks it); only a
 * message that cannot be decoded is terminated.
 */
export function createGeneratedHandler(deps: GeneratedConsumerDeps) {
  return async (msg: MessageContext): Promise<HandlerOutcome> => {
    let generated: rolloutV1.RolloutGenerated;
    try {
      generated = rolloutV1.RolloutGenerated.decode(msg.data);
    } catch (error) {
      deps.logger.error('undecodable RolloutGenerated: terminated', { seq: msg.streamSequence, error });
      return 'term';
    }
    const request = generated.request;
    if (request === undefined || request.rolloutId === '') {
      deps.logger.error('RolloutGenerated without request.rollout_id: terminated', {
        seq: msg.streamSequence,
      });
      return 'term';
    }
    const reward = await deps.score({
      id: request.rolloutId,
      question: request.question,
      completion: generated.completionText,
      labeled: request.labeled,
      gold: () => request.goldAnswer,
    });
    const scored: rolloutV1.RolloutScored = { generated, reward, scoredAt: new Date() };
    const { duplicate } = await deps.publish(
      SUBJECT_ROLLOUT_SCORED,
      rolloutV1.RolloutScored.encode(scored).finish(),
      scoredMessageId(request.rolloutId),
    );
    deps.onScored?.(request.rolloutId, reward, duplicate);
    return 'ack';
  };
}
