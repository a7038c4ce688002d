import type { ConsumerSpec, StreamSpec } from '@verdict/runtime';

// Stream specs every Verdict service declares identically (ensureStream is create-or-update);
// to be hoisted into one shared place.
export const SUBJECTS = {
  rolloutRequested: 'verdict.rollout.requested',
  rolloutGenerated: 'verdict.rollout.generated',
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

export function rolloutConsumerSpec(name: string, ackWaitMs: number, maxDeliver: number): ConsumerSpec {
  return {
    stream: ROLLOUTS_STREAM.name,
    name,
    filterSubject: SUBJECTS.rolloutRequested,
    ackWaitMs,
    maxDeliver,
  };
}
