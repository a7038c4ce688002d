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
export { rolloutMsgId };

export function rolloutConsumerSpec(name: string, ackWaitMs: number, maxDeliver: number): ConsumerSpec {
  return {
    stream: ROLLOUTS_STREAM.name,
    name,
    filterSubject: SUBJECTS.rolloutRequested,
    ackWaitMs,
    maxDeliver,
  };
}
