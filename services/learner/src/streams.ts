import {
  type ConsumerSpec,
  rolloutMsgId,
  VERDICT_ROLLOUTS_STREAM,
  VERDICT_SUBJECTS,
  VERDICT_WEIGHTS_BUCKET,
  VERDICT_WEIGHTS_STREAM,
} from '@verdict/runtime';

// The shared topology lives in @verdict/runtime; these aliases keep this service's names.
export const SUBJECTS = VERDICT_SUBJECTS;
export const ROLLOUTS_STREAM = VERDICT_ROLLOUTS_STREAM;
export const WEIGHTS_STREAM = VERDICT_WEIGHTS_STREAM;
export const WEIGHTS_BUCKET = VERDICT_WEIGHTS_BUCKET;

/** Nats-Msg-Id of a rollout request (the stage-qualified scheme of the shared topology). */
export function requestMessageId(rolloutId: string): string {
  return rolloutMsgId(rolloutId, 'requested');
}

/** The learner's durable consumer of scored rollouts (acks wait for the step checkpoint). */
export function scoredConsumerSpec(name: string, ackWaitMs: number, maxAckPending: number): ConsumerSpec {
  return {
    stream: ROLLOUTS_STREAM.name,
    name,
    filterSubject: SUBJECTS.rolloutScored,
    ackWaitMs,
    maxDeliver: -1,
    maxAckPending,
  };
}
