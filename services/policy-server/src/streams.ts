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

/**
 * JetStream message id of a rollout at one stage. All stages share the VERDICT_ROLLOUTS stream
 * and its duplicate window, so the bare rollout id (used by the request) would make the
 * generated message a "duplicate" of its own request: the stage is part of the id.
 */
export function rolloutMsgId(rolloutId: string, stage: 'requested' | 'generated' | 'scored'): string {
  return stage === 'requested' ? rolloutId : `${rolloutId}:${stage}`;
}

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
