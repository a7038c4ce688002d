/** Outcome of computing one reward term. Anything but OK masks the sample. */
export type RewardStatus = 'OK' | 'ABSTAIN' | 'TIMEOUT' | 'ERROR';

/** The three terms of R = λ·R_VR + μ·R_judge + ρ·R_rerank. */
export type RewardTerm = 'vr' | 'judge' | 'rerank';

export const REWARD_TERMS: readonly RewardTerm[] = ['vr', 'judge', 'rerank'];

/** Labeled questions have a gold answer; unlabeled ones only get judge terms. */
export type QuestionSource = 'labeled' | 'unlabeled';

export type RewardComponent =
  | { readonly status: 'OK'; readonly value: number; readonly detail?: string }
  | { readonly status: 'ABSTAIN' | 'TIMEOUT' | 'ERROR'; readonly detail?: string };

export interface RewardWeights {
  /** λ: verifiable (gold-answer) reward. */
  readonly vr: number;
  /** μ: judge reward sigmoid(z_Yes − z_No). */
  readonly judge: number;
  /** ρ: rerank reward. */
  readonly rerank: number;
}

export interface RewardMixConfig {
  readonly weights: RewardWeights;
  /**
   * Whether labeled questions also get the judge terms (judge, rerank) besides VR.
   * Unlabeled questions always get only the judge terms.
   */
  readonly judgeOnLabeled: boolean;
}

export interface MixedReward {
  readonly source: QuestionSource;
  /** OK, or the most severe status among the planned components (ERROR > TIMEOUT > ABSTAIN). */
  readonly status: RewardStatus;
  /** True when the sample must be left out of the loss and the advantage statistics. */
  readonly masked: boolean;
  /** The mixed reward; null when masked (never a stand-in 0). */
  readonly reward: number | null;
  /** The components that were planned for this source, as computed. */
  readonly components: Readonly<Partial<Record<RewardTerm, RewardComponent>>>;
  /** Weights actually used, renormalised over the terms available for this source. */
  readonly weights: Readonly<Partial<Record<RewardTerm, number>>>;
  /** Why the sample is masked, naming the term. */
  readonly detail?: string;
}
