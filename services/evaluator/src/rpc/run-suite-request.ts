import { isSuiteName, SUITE_NAMES } from '@verdict/data';
import type { evaluatorV1 } from '@verdict/proto';
import { clientText, VerdictError } from '@verdict/runtime';
import type { EvaluatorConfig } from '../config.js';
import type { RunSpec } from '../suite-runner.js';

export const MAX_SAMPLES = 64;
export const MAX_LIMIT = 1_000_000;
export const MAX_NEW_TOKENS = 32_768;
/** No served vocabulary is this large; the model's own size is checked once its info is read. */
export const MAX_TOP_K = 1_000_000;

function invalid(field: string, message: string): VerdictError {
  return new VerdictError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

/** RunSuiteRequest (wire) → RunSpec, or INVALID_ARGUMENT naming the field and the limit. */
export function parseRunSuiteRequest(req: evaluatorV1.RunSuiteRequest, config: EvaluatorConfig): RunSpec {
  if (!isSuiteName(req.suite)) {
    throw invalid(
      'suite',
      `unknown suite ${clientText(JSON.stringify(req.suite))}; must be one of ${SUITE_NAMES.join(', ')}`,
    );
  }
  if (req.limit > BigInt(MAX_LIMIT))
    throw invalid('limit', `must be <= ${MAX_LIMIT} (0 = all), got ${req.limit}`);
  if (req.samples > MAX_SAMPLES) throw invalid('samples', `must be <= ${MAX_SAMPLES}, got ${req.samples}`);
  const s = req.sampling;
  const temperature = s === undefined ? config.nightly.temperature : s.temperature;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw invalid('sampling.temperature', `must be a finite number >= 0, got ${temperature}`);
  }
  const topP = s === undefined || s.topP === 0 ? 1 : s.topP;
  if (!(topP > 0 && topP <= 1))
    throw invalid('sampling.top_p', `must be in [0, 1] (0 = off), got ${s?.topP}`);
  if (s?.seed !== undefined && s.seed > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalid('sampling.seed', `must be <= ${Number.MAX_SAFE_INTEGER}, got ${s.seed}`);
  }
  const maxNewTokens = s === undefined || s.maxNewTokens === 0 ? config.maxNewTokens : s.maxNewTokens;
  if (maxNewTokens > MAX_NEW_TOKENS) {
    throw invalid('sampling.max_new_tokens', `must be <= ${MAX_NEW_TOKENS}, got ${maxNewTokens}`);
  }
  const topK = s?.topK ?? 0;
  if (topK > MAX_TOP_K) throw invalid('sampling.top_k', `must be <= ${MAX_TOP_K} (0 = off), got ${topK}`);
  if (s !== undefined && (s.stopStrings.length > 0 || s.stopTokenIds.length > 0)) {
    // Answers are scored on the full text; a caller's stop rules would change what is scored.
    throw invalid('sampling.stop_strings', 'stop rules are not supported by RunSuite');
  }
  return {
    suite: req.suite,
    ...(req.limit > 0n ? { limit: Number(req.limit) } : {}),
    // proto: "0 or 1 = greedy only".
    samples: req.samples <= 1 ? 0 : req.samples,
    temperature,
    topP,
    topK,
    seed: s?.seed === undefined ? config.nightly.seed : Number(s.seed),
    maxNewTokens,
    ...(req.policyTarget !== '' ? { policyTarget: allowedTarget(req.policyTarget, config) } : {}),
  };
}

/**
 * The request's policy_target, if the evaluator's config allows it: EVALUATOR_POLICY_TARGET or one
 * of EVALUATOR_POLICY_TARGETS. Any other value is refused before anything is dialled, so a caller
 * cannot use the evaluator to reach hosts of its choosing. The allowed list is not echoed (it
 * names internal addresses).
 */
function allowedTarget(target: string, config: EvaluatorConfig): string {
  if (target === config.policyTarget || config.allowedPolicyTargets.includes(target)) return target;
  throw invalid(
    'policy_target',
    `${clientText(JSON.stringify(target))} is not an allowed target (EVALUATOR_POLICY_TARGET or one of EVALUATOR_POLICY_TARGETS; empty = the default)`,
  );
}
