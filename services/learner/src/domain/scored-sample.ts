import type { RolloutTimeline } from './step-phases.js';

/** Reward status as the learner sees it (UNSPECIFIED folds into ERROR, as the contract says). */
export type SampleStatus = 'OK' | 'ABSTAIN' | 'TIMEOUT' | 'ERROR';

export interface ComponentValue {
  readonly status: SampleStatus;
  readonly value: number;
}

/** One scored rollout, decoded from the wire (rollout ids, token ids, logprobs, reward terms). */
export interface ScoredSample {
  readonly rolloutId: string;
  readonly runId: string;
  readonly step: number;
  readonly groupId: string;
  readonly groupIndex: number;
  readonly groupSize: number;
  readonly questionId: string;
  readonly labeled: boolean;
  readonly promptIds: readonly number[];
  readonly completionIds: readonly number[];
  /** Policy-server log-probs of the completion tokens (raw distribution, temperature 1). */
  readonly rolloutLogprobs: readonly number[];
  /** Weights version that generated the sample. */
  readonly policyVersion: number;
  /** Generation ended on a stop token/string (false = truncated at the length limit). */
  readonly terminal: boolean;
  readonly status: SampleStatus;
  /** Mixed total; meaningful only when status is OK. */
  readonly total: number;
  readonly verifiable?: ComponentValue;
  readonly judge?: ComponentValue;
  readonly rerank?: ComponentValue;
  readonly judgePYesFull?: number;
  readonly judgeOtherMass?: number;
  readonly generatorId: string;
  /** Where this rollout spent its time in the services (the step's phase breakdown). */
  readonly timeline?: RolloutTimeline;
}

/** The G samples of one question; `samples[i]` is group index i. */
export interface SampleGroup {
  readonly groupId: string;
  readonly step: number;
  readonly samples: readonly ScoredSample[];
}
