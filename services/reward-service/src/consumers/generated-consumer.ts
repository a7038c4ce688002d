import type { rewardV1 } from '@verdict/proto';
import { rolloutV1 } from '@verdict/proto';
import type { HandlerOutcome, MessageContext, RuntimeLogger } from '@verdict/runtime';
import { computeGroupRerank, type RerankOutcome } from '../domain/group-rerank.js';
import type { JudgedSample, SampleToScore } from '../domain/score-sample.js';
import { SUBJECT_ROLLOUT_SCORED, scoredMessageId } from '../streams.js';
import { createRerankGroups, type GroupEnd, type GroupMember } from './rerank-groups.js';

export interface GeneratedConsumerDeps {
  readonly score: (sample: SampleToScore) => Promise<rewardV1.RewardResult>;
  readonly publish: (subject: string, data: Uint8Array, msgId: string) => Promise<{ duplicate: boolean }>;
  readonly logger: RuntimeLogger;
  readonly onScored?: (rolloutId: string, reward: rewardV1.RewardResult, duplicate: boolean) => void;
  /**
   * ρ > 0: judge a sample, hold it until its group is complete, rank and mix the group. Absent
   * (ρ = 0): `score` each message on its own, nothing is held.
   */
  readonly rerank?: {
    readonly judge: (sample: SampleToScore) => Promise<JudgedSample>;
    readonly finish: (judged: JudgedSample, rerank: RerankOutcome | undefined) => rewardV1.RewardResult;
    readonly groupTimeoutMs: number;
  };
}

export interface GeneratedHandler {
  (msg: MessageContext): Promise<HandlerOutcome>;
  /** Members held for their group now (ρ > 0). */
  readonly heldCount: number;
  /** Stop: held members are released unpublished (nak'd, redelivered whole after restart). */
  close(): void;
}

interface Held {
  readonly generated: rolloutV1.RolloutGenerated;
  readonly judged: JudgedSample;
}

/**
 * verdict.rollout.generated → score → verdict.rollout.scored, acked only after the scored
 * message is stored. The scored message id is the rollout id (+ stage), so a redelivered
 * rollout (crash before the ack) publishes the same id and JetStream keeps one copy. A reward
 * that cannot be computed is published with its typed status (the learner masks it); only a
 * message that cannot be decoded is terminated.
 *
 * With the rerank term each judged sample stays unacked (the consume loop keeps it alive with
 * `working()`) until all `group_size` members of its group are judged; then the whole group is
 * ranked, published, and only then acked. A group still incomplete after `groupTimeoutMs` is
 * published with the rerank term unavailable for the members present (weights renormalised).
 */
export function createGeneratedHandler(deps: GeneratedConsumerDeps): GeneratedHandler {
  const publishScored = async (generated: rolloutV1.RolloutGenerated, reward: rewardV1.RewardResult) => {
    const rolloutId = generated.request!.rolloutId;
    const scored: rolloutV1.RolloutScored = { generated, reward, scoredAt: new Date() };
    const { duplicate } = await deps.publish(
      SUBJECT_ROLLOUT_SCORED,
      rolloutV1.RolloutScored.encode(scored).finish(),
      scoredMessageId(rolloutId),
    );
    deps.onScored?.(rolloutId, reward, duplicate);
  };

  const rerank = deps.rerank;
  const groups =
    rerank === undefined
      ? undefined
      : createRerankGroups<Held>({
          timeoutMs: rerank.groupTimeoutMs,
          flush: async (groupId, members: readonly GroupMember<Held>[], end: GroupEnd) => {
            let outcomes: (RerankOutcome | undefined)[];
            if (end.kind === 'complete') {
              outcomes = computeGroupRerank(members.map((m) => m.value.judged.judgeScore));
            } else {
              const size = members[0]?.value.generated.request?.groupSize ?? 0;
              const reason = `group ${groupId} incomplete after ${end.waitedMs} ms (${members.length} of ${size} members judged)`;
              deps.logger.warn('rerank group timed out: published without the rerank term', {
                groupId,
                present: members.length,
                groupSize: size,
              });
              outcomes = members.map(() => ({ kind: 'unavailable', reason }));
            }
            // All members are published before any is acked (the waiting handlers ack after this).
            await Promise.all(
              members.map((m, i) =>
                publishScored(m.value.generated, rerank.finish(m.value.judged, outcomes[i])),
              ),
            );
          },
        });

  const handler = async (msg: MessageContext): Promise<HandlerOutcome> => {
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
    const sample: SampleToScore = {
      id: request.rolloutId,
      question: request.question,
      completion: generated.completionText,
      labeled: request.labeled,
      gold: () => request.goldAnswer,
    };
    if (rerank === undefined || groups === undefined) {
      await publishScored(generated, await deps.score(sample));
      return 'ack';
    }
    const judged = await rerank.judge(sample);
    if (!judged.needsRerank) {
      await publishScored(generated, rerank.finish(judged, undefined));
      return 'ack';
    }
    if (request.groupId === '' || request.groupSize <= 1) {
      // Nothing to wait for: a group of one (or none) has no rank.
      const outcome: RerankOutcome =
        request.groupId === ''
          ? { kind: 'unavailable', reason: 'RolloutRequested.group_id is empty' }
          : (computeGroupRerank([judged.judgeScore])[0] ?? { kind: 'unavailable', reason: 'group of 1' });
      await publishScored(generated, rerank.finish(judged, outcome));
      return 'ack';
    }
    const held = await groups.hold(request.groupId, request.groupSize, {
      id: request.rolloutId,
      value: { generated, judged },
    });
    // Released by a stop before its group was published: redeliver (re-judged, deduplicated).
    return held === 'published' ? 'ack' : { nak: 0 };
  };
  // Properties, not copies: heldCount must read the live count.
  return Object.defineProperties(handler, {
    heldCount: { get: () => groups?.heldCount ?? 0 },
    close: { value: () => groups?.close() },
  }) as GeneratedHandler;
}
