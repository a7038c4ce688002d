import { type ConsumerSpec, rolloutMsgId, VERDICT_ROLLOUTS_STREAM, VERDICT_SUBJECTS } from '@verdict/runtime';

// The shared topology lives in @verdict/runtime; these aliases keep this service's names.
export const ROLLOUTS_STREAM = VERDICT_ROLLOUTS_STREAM;
export const SUBJECT_ROLLOUT_GENERATED = VERDICT_SUBJECTS.rolloutGenerated;
export const SUBJECT_ROLLOUT_SCORED = VERDICT_SUBJECTS.rolloutScored;

/** The scored message's Nats-Msg-Id: rollout id + stage (the stream also holds other stages). */
export function scoredMessageId(rolloutId: string): string {
  return rolloutMsgId(rolloutId, 'scored');
}

/** Durable pull consumer shared by all replicas (queue semantics: each message to one replica). */
export function generatedConsumerSpec(
  name: string,
  ackWaitMs: number,
  maxDeliver: number,
  maxAckPending?: number,
): ConsumerSpec {
  return {
    stream: ROLLOUTS_STREAM.name,
    name,
    filterSubject: SUBJECT_ROLLOUT_GENERATED,
    ackWaitMs,
    maxDeliver,
    deliverPolicy: 'all',
    // ρ > 0 holds whole groups unacked: the server must let that many be pending at once.
    ...(maxAckPending === undefined ? {} : { maxAckPending }),
  };
}
