import type { ConsumerSpec, StreamSpec } from '@verdict/runtime';

// Stream specs shared by every service (to be hoisted into one place; keep identical there).
export const ROLLOUTS_STREAM: StreamSpec = {
  name: 'VERDICT_ROLLOUTS',
  subjects: ['verdict.rollout.>'],
  retention: 'limits',
  storage: 'file',
  duplicateWindowMs: 120_000,
};

export const SUBJECT_ROLLOUT_GENERATED = 'verdict.rollout.generated';
export const SUBJECT_ROLLOUT_SCORED = 'verdict.rollout.scored';

/** The scored message's Nats-Msg-Id: rollout id + stage (the stream also holds other stages). */
export function scoredMessageId(rolloutId: string): string {
  return `${rolloutId}:scored`;
}

/** Durable pull consumer shared by all replicas (queue semantics: each message to one replica). */
export function generatedConsumerSpec(name: string, ackWaitMs: number, maxDeliver: number): ConsumerSpec {
  return {
    stream: ROLLOUTS_STREAM.name,
    name,
    filterSubject: SUBJECT_ROLLOUT_GENERATED,
    ackWaitMs,
    maxDeliver,
    deliverPolicy: 'all',
  };
}
