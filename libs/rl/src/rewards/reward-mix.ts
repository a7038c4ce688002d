import type {
  MixedReward,
  QuestionSource,
  RewardComponent,
  RewardMixConfig,
  RewardStatus,
  RewardTerm,
} from './reward-types.js';
import { REWARD_TERMS } from './reward-types.js';

/** λ + μ + ρ must equal 1 up to this tolerance (decimal configs like 0.1/0.2/0.7). */
const WEIGHT_SUM_TOLERANCE = 1e-9;

const SEVERITY: Record<RewardStatus, number> = { OK: 0, ABSTAIN: 1, TIMEOUT: 2, ERROR: 3 };

/** Every problem with the config at once (empty when valid). */
export function validateRewardMixConfig(config: RewardMixConfig): string[] {
  const problems: string[] = [];
  let sum = 0;
  for (const term of REWARD_TERMS) {
    const w = config.weights[term];
    if (!Number.isFinite(w) || w < 0) problems.push(`weights.${term} must be a finite number >= 0, got ${w}`);
    else sum += w;
  }
  if (problems.length === 0 && Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
    problems.push(`weights must sum to 1 (λ + μ + ρ = 1), got ${sum}`);
  }
  return problems;
}

export function assertRewardMixConfig(config: RewardMixConfig): void {
  const problems = validateRewardMixConfig(config);
  if (problems.length > 0) throw new RangeError(`invalid reward mix config: ${problems.join('; ')}`);
}

export interface PlannedTerm {
  readonly term: RewardTerm;
  /** Weight renormalised over the terms available for the source. */
  readonly weight: number;
}

/**
 * Which terms a sample from `source` gets, and their renormalised weights. Terms with
 * weight 0 are never planned, so with λ = 0 the VR term (and the gold answer) is never
 * touched. Throws when no term is available: that is a configuration error (e.g. unlabeled
 * data with μ = ρ = 0), not a per-sample failure.
 */
export function planRewardTerms(config: RewardMixConfig, source: QuestionSource): PlannedTerm[] {
  assertRewardMixConfig(config);
  const available: RewardTerm[] =
    source === 'labeled' ? (config.judgeOnLabeled ? ['vr', 'judge', 'rerank'] : ['vr']) : ['judge', 'rerank'];
  const active = available.filter((t) => config.weights[t] > 0);
  const total = active.reduce((s, t) => s + config.weights[t], 0);
  if (active.length === 0 || total <= 0) {
    throw new RangeError(
      `no reward term available for ${source} questions with weights ` +
        `λ=${config.weights.vr} μ=${config.weights.judge} ρ=${config.weights.rerank}` +
        (source === 'labeled' ? ` and judgeOnLabeled=${config.judgeOnLabeled}` : ''),
    );
  }
  return active.map((term) => ({ term, weight: config.weights[term] / total }));
}

export interface MixOptions {
  /**
   * Planned terms that do not exist for this sample (e.g. the rerank term of a group of one),
   * each with the reason. They are left out and the remaining weights renormalised over the
   * available terms: unavailable is not a failure, so it neither masks nor counts as 0.
   */
  readonly unavailable?: Readonly<Partial<Record<RewardTerm, string>>>;
}

/**
 * Mixes already-computed components. Every planned term must be present (unless declared
 * unavailable in `options`); a component for an unplanned or unavailable term is rejected
 * (with λ = 0 a VR value means gold was read somewhere). Any planned component that is not
 * OK masks the sample with that status. When every planned term is unavailable there is no
 * reward: the sample is masked ERROR naming the reasons.
 */
export function mixRewardComponents(
  config: RewardMixConfig,
  source: QuestionSource,
  components: Readonly<Partial<Record<RewardTerm, RewardComponent>>>,
  options: MixOptions = {},
): MixedReward {
  const fullPlan = planRewardTerms(config, source);
  const plannedTerms = new Set(fullPlan.map((p) => p.term));
  const unavailable = options.unavailable ?? {};
  for (const term of REWARD_TERMS) {
    if (components[term] !== undefined && !plannedTerms.has(term)) {
      throw new RangeError(
        `component '${term}' is not planned for ${source} questions (weight 0 or unavailable)`,
      );
    }
    if (components[term] !== undefined && unavailable[term] !== undefined) {
      throw new RangeError(`component '${term}' is both given and declared unavailable`);
    }
  }
  const kept = fullPlan.filter((p) => unavailable[p.term] === undefined);
  if (kept.length === 0) {
    const reasons = fullPlan.map((p) => `${p.term} unavailable (${unavailable[p.term]})`).join('; ');
    return {
      source,
      status: 'ERROR',
      masked: true,
      reward: null,
      components: {},
      weights: {},
      detail: `no reward term available: ${reasons}`,
    };
  }
  const keptTotal = kept.reduce((s, p) => s + p.weight, 0);
  const plan = kept.map((p) => ({ term: p.term, weight: p.weight / keptTotal }));
  const used: Partial<Record<RewardTerm, RewardComponent>> = {};
  const weights: Partial<Record<RewardTerm, number>> = {};
  let status: RewardStatus = 'OK';
  let detail: string | undefined;
  let reward = 0;
  for (const { term, weight } of plan) {
    let component = components[term];
    if (component === undefined)
      throw new RangeError(`missing planned component '${term}' for ${source} question`);
    if (component.status === 'OK' && !Number.isFinite(component.value)) {
      component = { status: 'ERROR', detail: `non-finite value ${component.value}` };
    }
    used[term] = component;
    weights[term] = weight;
    if (component.status === 'OK') {
      reward += weight * component.value;
    } else if (SEVERITY[component.status] > SEVERITY[status]) {
      status = component.status;
      detail = `${term}: ${component.status}${component.detail ? ` (${component.detail})` : ''}`;
    }
  }
  const masked = status !== 'OK';
  const base = { source, status, masked, reward: masked ? null : reward, components: used, weights };
  return detail === undefined ? base : { ...base, detail };
}
