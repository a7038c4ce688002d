import { commonV1, type rewardV1, rolloutV1 } from '@verdict/proto';
import {
  createPoisonGuard,
  createRecentIds,
  type HandlerOutcome,
  type MessageContext,
  type PoisonKind,
  type RuntimeLogger,
  VERDICT_SCHEMAS,
} from '@verdict/runtime';
import { computeGroupRerank, type RerankOutcome } from '../domain/group-rerank.js';
import type { JudgedSample, RewardSettings, SampleToScore } from '../domain/score-sample.js';
import { SUBJECT_ROLLOUT_GENERATED, SUBJECT_ROLLOUT_SCORED, scoredMessageId } from '../streams.js';
import { createRerankGroups, type GroupEnd, type GroupMember } from './rerank-groups.js';

export interface GeneratedConsumerDeps {
  /**
   * The settings of one rollout: its request's RewardConfig (the run's λ/μ/ρ, routing, template,
   * band) over the service defaults; throws INVALID_ARGUMENT for bad weights.
   */
  readonly settingsFor: (reward: rewardV1.RewardConfig | undefined) => RewardSettings;
  /** A sample's own terms (VR, judge); `needsRerank` when its settings plan the rerank term. */
  readonly judge: (sample: SampleToScore, settings: RewardSettings) => Promise<JudgedSample>;
  /** Mixes a judged sample (with its group's rerank outcome when it needs one). */
  readonly finish: (
    judged: JudgedSample,
    settings: RewardSettings,
    rerank: RerankOutcome | undefined,
  ) => rewardV1.RewardResult;
  /** ρ > 0: longest wait for a group to complete before its members go out without rerank. */
  readonly groupTimeoutMs: number;
  readonly publish: (subject: string, data: Uint8Array, msgId: string) => Promise<{ duplicate: boolean }>;
  /** Larger RolloutGenerated payloads are terminated as poison. */
  readonly maxMessageBytes: number;
  readonly logger: RuntimeLogger;
  readonly onScored?: (rolloutId: string, reward: rewardV1.RewardResult, duplicate: boolean) => void;
}

export interface GeneratedHandler {
  (msg: MessageContext): Promise<HandlerOutcome>;
  /** Members held for their group now (ρ > 0). */
  readonly heldCount: number;
  /** Poison messages terminated so far, by kind. */
  readonly poisoned: Readonly<Record<PoisonKind, number>>;
  /** Stop: held members are released unpublished (nak'd, redelivered whole after restart). */
  close(): void;
}

interface Held {
  readonly generated: rolloutV1.RolloutGenerated;
  readonly judged: JudgedSample;
  readonly settings: RewardSettings;
  readonly timings: rolloutV1.ScoringTimings;
}

/**
 * verdict.rollout.generated → score → verdict.rollout.scored, acked only after the scored
 * message is stored. The scored message id is the rollout id (+ stage), so a redelivered
 * rollout (crash before the ack) publishes the same id and JetStream keeps one copy. A reward
 * that cannot be computed is published with its typed status (the learner masks it); only a
 * message that cannot be decoded is terminated.
 *
 * Each rollout is mixed with the reward config its request carries (absent = the service
 * defaults), so runs with different λ/μ/ρ share one reward-service and a changed μ needs no
 * restart. When its settings plan the rerank term (ρ > 0), each judged sample stays unacked (the consume loop keeps it alive with
 * `working()`) until all `group_size` members of its group are judged; then the whole group is
 * ranked, published, and only then acked. A group still incomplete after `groupTimeoutMs` is
 * published with the rerank term unavailable for the members present (weights renormalised).
 */
export function createGeneratedHandler(deps: GeneratedConsumerDeps): GeneratedHandler {
  const publishScored = async (
    generated: rolloutV1.RolloutGenerated,
    reward: rewardV1.RewardResult,
    timings: rolloutV1.ScoringTimings,
  ) => {
    const rolloutId = generated.request!.rolloutId;
    const scored: rolloutV1.RolloutScored = { generated, reward, scoredAt: new Date(), timings };
    const { duplicate } = await deps.publish(
      SUBJECT_ROLLOUT_SCORED,
      rolloutV1.RolloutScored.encode(scored).finish(),
      scoredMessageId(rolloutId),
    );
    deps.onScored?.(rolloutId, reward, duplicate);
  };

  const groups = createRerankGroups<Held>({
    timeoutMs: deps.groupTimeoutMs,
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
          publishScored(
            m.value.generated,
            deps.finish(m.value.judged, m.value.settings, outcomes[i]),
            m.value.timings,
          ),
        ),
      );
    },
  });

  // Only a message that cannot be used is terminated (poison). Unknown run: not checked, the
  // reward-service serves any run (the run's reward config rides in the message).
  const guard = createPoisonGuard({
    subject: SUBJECT_ROLLOUT_GENERATED,
    schema: VERDICT_SCHEMAS[SUBJECT_ROLLOUT_GENERATED]!,
    maxBytes: deps.maxMessageBytes,
    decode: (data) => {
      const generated = rolloutV1.RolloutGenerated.decode(data);
      if (!generated.request?.rolloutId) throw new Error('request.rollout_id is empty');
      return { generated, request: generated.request };
    },
    logger: deps.logger,
  });
  // Rollout ids scored and acked here: a second message for one is not judged again. (Other
  // replicas' ids are caught by JetStream's duplicate window on the scored publish.)
  const scoredIds = createRecentIds(10_000);

  const score = async (
    generated: rolloutV1.RolloutGenerated,
    request: rolloutV1.RolloutRequested,
    receivedAt: Date,
  ): Promise<HandlerOutcome> => {
    const sample: SampleToScore = {
      id: request.rolloutId,
      question: request.question,
      completion: generated.completionText,
      labeled: request.labeled,
      gold: () => request.goldAnswer,
      ...(request.groupId === '' ? {} : { groupId: request.groupId }),
    };
    let settings: RewardSettings;
    try {
      settings = deps.settingsFor(request.reward);
    } catch (error) {
      // The learner validates its run config, so this is a foreign or corrupt request: mask the
      // sample (ERROR) instead of redelivering it forever or dropping it (its step would wait).
      const message = `request reward config rejected: ${(error as Error).message}`;
      deps.logger.error('rollout with an invalid reward config: published as ERROR', {
        rolloutId: request.rolloutId,
        error,
      });
      await publishScored(
        generated,
        { total: 0, status: commonV1.RewardStatus.REWARD_STATUS_ERROR, message },
        { receivedAt },
      );
      return 'ack';
    }
    const judgeStartedAt = new Date();
    const judged = await deps.judge(sample, settings);
    const timings: rolloutV1.ScoringTimings =
      judged.components.judge === undefined
        ? { receivedAt }
        : { receivedAt, judgeStartedAt, judgeFinishedAt: new Date() };
    if (!judged.needsRerank) {
      await publishScored(generated, deps.finish(judged, settings, undefined), timings);
      return 'ack';
    }
    if (request.groupId === '' || request.groupSize <= 1) {
      // Nothing to wait for: a group of one (or none) has no rank.
      const outcome: RerankOutcome =
        request.groupId === ''
          ? { kind: 'unavailable', reason: 'RolloutRequested.group_id is empty' }
          : (computeGroupRerank([judged.judgeScore])[0] ?? { kind: 'unavailable', reason: 'group of 1' });
      await publishScored(generated, deps.finish(judged, settings, outcome), timings);
      return 'ack';
    }
    const held = await groups.hold(request.groupId, request.groupSize, {
      id: request.rolloutId,
      value: { generated, judged, settings, timings },
    });
    // Released by a stop before its group was published: redeliver (re-judged, deduplicated).
    return held === 'published' ? 'ack' : { nak: 0 };
  };
  const handler = async (msg: MessageContext): Promise<HandlerOutcome> => {
    const receivedAt = new Date();
    const admitted = guard.admit(msg);
    if (!admitted.ok) return 'term';
    const { generated, request } = admitted.value;
    if (scoredIds.has(request.rolloutId)) return guard.duplicate(msg, request.rolloutId);
    const outcome = await score(generated, request, receivedAt);
    if (outcome === 'ack') scoredIds.add(request.rolloutId);
    return outcome;
  };
  // Properties, not copies: heldCount must read the live count.
  return Object.defineProperties(handler, {
    heldCount: { get: () => groups.heldCount },
    poisoned: { value: guard.counts },
    close: { value: () => groups.close() },
  }) as GeneratedHandler;
}
