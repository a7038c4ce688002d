import type { LlamaModel } from '@verdict/models';
import { auroc, judgeAgreement } from '@verdict/rl';
import { type ChainLabelMetrics, chainLabelMetrics, chainLabelSamples } from './chain-labels.js';
import { type JudgeCheckMetrics, measureJudgeChecks } from './judge-checks.js';
import { probeJudgeOnSynthetic, type SyntheticJudgeMetrics } from './judge-probe.js';
import { mean } from './judge-scores.js';
import { judgeStudentSamples, type StudentSample } from './student-samples.js';

/** A judge measured on the student's fresh samples, the way DESIGN.md §6 names it. */
export interface ToyJudgeMetrics {
  /** Against the answer checker's labels. */
  readonly answer: {
    readonly accuracy: number;
    readonly auroc: number;
    readonly samples: number;
    readonly positiveRate: number;
    readonly meanScoreCorrect: number;
    readonly meanScoreWrong: number;
  };
  /** Against chain correctness, beside what a perfect chain checker scores against the answers. */
  readonly chains: ChainLabelMetrics;
  readonly checks: JudgeCheckMetrics;
  readonly synthetic: SyntheticJudgeMetrics;
}

export async function measureToyJudge(
  model: LlamaModel,
  samples: readonly StudentSample[],
  options: Parameters<typeof measureJudgeChecks>[2],
): Promise<ToyJudgeMetrics> {
  const scores = await judgeStudentSamples(model, samples);
  const labels = samples.map((s) => s.correct);
  return {
    answer: {
      accuracy: judgeAgreement(scores, labels).agreement,
      auroc: auroc(scores, labels),
      samples: scores.length,
      positiveRate: mean(labels.map((l) => (l ? 1 : 0))),
      meanScoreCorrect: mean(scores.filter((_, i) => labels[i])),
      meanScoreWrong: mean(scores.filter((_, i) => !labels[i])),
    },
    chains: chainLabelMetrics(chainLabelSamples(samples), scores),
    checks: await measureJudgeChecks(model, samples, options),
    synthetic: await probeJudgeOnSynthetic(model, options.seed),
  };
}

/** How far the shipped (half-precision) judge's P(Yes) is from the full-precision one's. */
export interface ScoreParity {
  readonly samples: number;
  readonly maxAbsDiff: number;
  readonly meanAbsDiff: number;
}

export function scoreParity(reference: readonly number[], shipped: readonly number[]): ScoreParity {
  if (reference.length !== shipped.length) {
    throw new RangeError(`scoreParity: ${reference.length} reference scores, ${shipped.length} shipped`);
  }
  const diffs = reference.map((r, i) => Math.abs(r - shipped[i]!));
  return { samples: diffs.length, maxAbsDiff: Math.max(0, ...diffs), meanAbsDiff: mean(diffs) };
}
