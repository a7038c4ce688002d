import type { ConsumerSpec, StreamSpec } from '@verdict/runtime';

// Stream specs every Verdict service declares identically (ensureStream is create-or-update);
// same names/subjects as services/policy-server/src/streams.ts, to be hoisted into one shared place.
export const SUBJECTS = {
  rolloutRequested: 'verdict.rollout.requested',
  rolloutGenerated: 'verdict.rollout.generated',
  rolloutScored: 'verdict.rollout.scored',
  weightsPublished: 'verdict.weights.published',
} as const;

export const ROLLOUTS_STREAM: StreamSpec = {
  name: 'VERDICT_ROLLOUTS',
  subjects: ['verdict.rollout.>'],
  retention: 'limits',
  storage: 'file',
  duplicateWindowMs: 120_000,
};

export const WEIGHTS_STREAM: StreamSpec = {
  name: 'VERDICT_WEIGHTS',
  subjects: ['verdict.weights.>'],
  retention: 'limits',
  storage: 'file',
  duplicateWindowMs: 120_000,
};

export const WEIGHTS_BUCKET = 'verdict-weights';

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
