import type { StreamSpec } from './streams.js';

// The JetStream topology every Verdict service shares. ensureStream is create-or-update, so
// each service declares what it uses from here and the specs can never drift apart.

/** Subjects of the rollout pipeline and weight distribution (DESIGN.md §2). */
export const VERDICT_SUBJECTS = {
  rolloutRequested: 'verdict.rollout.requested',
  rolloutGenerated: 'verdict.rollout.generated',
  rolloutScored: 'verdict.rollout.scored',
  weightsPublished: 'verdict.weights.published',
} as const;

/** All rollout stages share one stream (replayable, one duplicate window). */
/**
 * Header naming the protobuf message (package version included) a payload holds. Publishing on a
 * subject of VERDICT_SCHEMAS stamps it, so a consumer can tell a message of another schema
 * version from a corrupt one and terminate it instead of misreading its fields.
 */
export const SCHEMA_HEADER = 'Verdict-Schema';

/** The message type each Verdict subject carries (the proto package is the schema version). */
export const VERDICT_SCHEMAS: Readonly<Record<string, string>> = {
  [VERDICT_SUBJECTS.rolloutRequested]: 'verdict.rollout.v1.RolloutRequested',
  [VERDICT_SUBJECTS.rolloutGenerated]: 'verdict.rollout.v1.RolloutGenerated',
  [VERDICT_SUBJECTS.rolloutScored]: 'verdict.rollout.v1.RolloutScored',
  [VERDICT_SUBJECTS.weightsPublished]: 'verdict.weights.v1.WeightsPublished',
};

/** `headers` plus the subject's SCHEMA_HEADER (a caller's own value wins); unknown subjects unchanged. */
export function withSchemaHeader(
  subject: string,
  headers: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const schema = VERDICT_SCHEMAS[subject];
  if (schema === undefined || headers?.[SCHEMA_HEADER] !== undefined) return headers;
  return { [SCHEMA_HEADER]: schema, ...headers };
}

export const VERDICT_ROLLOUTS_STREAM: StreamSpec = {
  name: 'VERDICT_ROLLOUTS',
  subjects: ['verdict.rollout.>'],
  retention: 'limits',
  storage: 'file',
  duplicateWindowMs: 120_000,
};

export const VERDICT_WEIGHTS_STREAM: StreamSpec = {
  name: 'VERDICT_WEIGHTS',
  subjects: ['verdict.weights.>'],
  retention: 'limits',
  storage: 'file',
  duplicateWindowMs: 120_000,
};

/** Object Store bucket holding published safetensors weights. */
export const VERDICT_WEIGHTS_BUCKET = 'verdict-weights';

export type RolloutStage = 'requested' | 'generated' | 'scored';

/**
 * JetStream message id of a rollout at one stage. The stages share VERDICT_ROLLOUTS and its
 * duplicate window, so a bare rollout id on the generated message would be dropped as a
 * "duplicate" of its own request: the stage is part of the id.
 */
export function rolloutMsgId(rolloutId: string, stage: RolloutStage): string {
  return stage === 'requested' ? rolloutId : `${rolloutId}:${stage}`;
}
