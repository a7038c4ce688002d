import { rewardV1 } from '@verdict/proto';
import { planRewardTerms, type QuestionSource, validateRewardMixConfig } from '@verdict/rl';
import { VerdictError } from '@verdict/runtime';
import type { RewardSettings, VerifiableCheckMode } from './score-sample.js';

/** Longest `judge_template_name` accepted (characters). */
export const JUDGE_TEMPLATE_NAME_MAX_CHARS = 128;

const CHECKS: Readonly<Record<number, VerifiableCheckMode | undefined>> = {
  [rewardV1.VerifiableCheck.VERIFIABLE_CHECK_ANSWER]: 'answer',
  [rewardV1.VerifiableCheck.VERIFIABLE_CHECK_ANSWER_AND_ARITHMETIC]: 'answer-and-arithmetic',
};

/**
 * A RewardConfig (a Score call's, or the one a rollout request carries from its run config) over
 * the service's configured defaults: weights and judge routing, abstain band, template ("" = the
 * default), judge deadline (unset = the default) and what the verifiable reward checks (UNSPECIFIED =
 * the default). Absent config = the defaults unchanged, so
 * rollouts from learners that send none are mixed as before. Bad weights or band →
 * INVALID_ARGUMENT naming `<field>.weights` / `<field>.judge_abstain_band`.
 */
export function rewardSettingsFor(
  config: rewardV1.RewardConfig | undefined,
  defaults: RewardSettings,
  field = 'config',
): RewardSettings {
  if (config === undefined) return defaults;
  const w = config.weights;
  const mix = {
    weights:
      w === undefined ? defaults.mix.weights : { vr: w.lambdaVr, judge: w.muJudge, rerank: w.rhoRerank },
    judgeOnLabeled: config.labeled?.judge ?? defaults.mix.judgeOnLabeled,
  };
  const problems = validateRewardMixConfig(mix);
  if (problems.length > 0) {
    throw new VerdictError('INVALID_ARGUMENT', `${field}.weights: ${problems.join('; ')}`, {
      field: `${field}.weights`,
    });
  }
  if (!(config.judgeAbstainBand >= 0 && config.judgeAbstainBand <= 0.5)) {
    throw new VerdictError('INVALID_ARGUMENT', `${field}.judge_abstain_band must be in [0, 0.5]`, {
      field: `${field}.judge_abstain_band`,
    });
  }
  if (config.judgeTemplateName.length > JUDGE_TEMPLATE_NAME_MAX_CHARS) {
    // Sent to the judge on every call (and echoed in its errors): bounded before any call.
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `${field}.judge_template_name must be at most ${JUDGE_TEMPLATE_NAME_MAX_CHARS} characters (got ${config.judgeTemplateName.length})`,
      { field: `${field}.judge_template_name` },
    );
  }
  const t = config.judgeTimeout;
  const timeoutMs = t === undefined ? 0 : Number(t.seconds) * 1000 + Math.round(t.nanos / 1e6);
  // Negative nanos (or nanos ≥ 1 s) are not a valid Duration even when the total is in range.
  if (!(timeoutMs >= 0 && timeoutMs <= 600_000) || (t !== undefined && !(t.nanos >= 0 && t.nanos < 1e9))) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `${field}.judge_timeout must be in [0, 600 s] (0 = the default)`,
      {
        field: `${field}.judge_timeout`,
      },
    );
  }
  // Absent on messages built before the field existed (fromPartial fills 0 = UNSPECIFIED).
  const check = config.verifiableCheck ?? rewardV1.VerifiableCheck.VERIFIABLE_CHECK_UNSPECIFIED;
  const verifiableCheck =
    check === rewardV1.VerifiableCheck.VERIFIABLE_CHECK_UNSPECIFIED
      ? defaults.verifiableCheck
      : CHECKS[check];
  if (verifiableCheck === undefined) {
    throw new VerdictError('INVALID_ARGUMENT', `${field}.verifiable_check: unknown value ${check}`, {
      field: `${field}.verifiable_check`,
    });
  }
  return {
    ...defaults,
    mix,
    verifiableCheck,
    abstainBand: config.judgeAbstainBand,
    judgeTemplateName: config.judgeTemplateName || defaults.judgeTemplateName,
    judgeTimeoutMs: timeoutMs || defaults.judgeTimeoutMs,
  };
}

/**
 * Why `source` questions get no reward term under these settings (e.g. unlabeled with μ = ρ = 0),
 * or undefined when they get one. Reward planning throws for such a source; callers check first
 * so the caller's configuration is an INVALID_ARGUMENT, not an INTERNAL.
 */
export function unplannableSource(settings: RewardSettings, source: QuestionSource): string | undefined {
  try {
    planRewardTerms(settings.mix, source);
    return undefined;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const w = settings.mix.weights;
    return source === 'unlabeled'
      ? `unlabeled, and the weights give unlabeled questions no term (mu_judge = ${w.judge}, rho_rerank = ${w.rerank}; one must be > 0)`
      : `labeled, and the weights give labeled questions no term (lambda_vr = ${w.vr}, judge on labeled = ${settings.mix.judgeOnLabeled})`;
  }
}
