import type { learnerV1 } from '@verdict/proto';
import { VerdictError } from '@verdict/runtime';

/**
 * Size limits of a run config (services/learner/README.md, "Limits"). They are checked by
 * `checkRunConfigSizes` before anything else looks at the config: a StartRun with 10,000
 * `data_mix` entries used to make the learner generate ~10M toy problems on the event loop (every
 * RPC of the process hung, then the heap ran out). Checking a length is O(1), so a config that is
 * too big is refused without any work proportional to its size.
 */
export const RUN_CONFIG_LIMITS = {
  /** Entries of `data_mix`. */
  dataMixEntries: 32,
  /** Toy problems generated for one run (sum of toy `limit`s, 0 counting as 1000): ~1.5 s of CPU. */
  toyProblems: 100_000,
  /** Entries of `eval_suites`. */
  evalSuites: 32,
  /** `rollout_sampling.stop_strings` entries, and characters of each. */
  stopStrings: 16,
  stopStringChars: 256,
  /** `rollout_sampling.stop_token_ids` entries. */
  stopTokenIds: 256,
  /** Characters of a data source or suite name, split, model id, or judge template name. */
  nameChars: 128,
  /** Characters of a checkpoint URI (a path or URL). */
  uriChars: 4096,
} as const;

/** Toy sources default to 1000 problems when `limit` is 0 (services/learner/README.md). */
export const TOY_DEFAULT_LIMIT = 1000;

type Problem = { field: string; rule: string };

function count(problems: Problem[], field: string, length: number, max: number): void {
  if (length > max) problems.push({ field, rule: `must have at most ${max} item(s) (got ${length})` });
}

function chars(problems: Problem[], field: string, value: string | undefined, max: number): void {
  if (value !== undefined && value.length > max)
    problems.push({ field, rule: `must be at most ${max} characters (got ${value.length})` });
}

/**
 * Throws INVALID_ARGUMENT naming every field over its size limit. Every repeated field's length is
 * checked before any of its items are read, so the work here is bounded by the limits, not by
 * the request.
 */
export function checkRunConfigSizes(w: learnerV1.RunConfig): void {
  const L = RUN_CONFIG_LIMITS;
  const problems: Problem[] = [];
  count(problems, 'dataMix', w.dataMix.length, L.dataMixEntries);
  count(problems, 'evalSuites', w.evalSuites.length, L.evalSuites);
  const s = w.rolloutSampling;
  if (s !== undefined) {
    count(problems, 'rolloutSampling.stopStrings', s.stopStrings.length, L.stopStrings);
    count(problems, 'rolloutSampling.stopTokenIds', s.stopTokenIds.length, L.stopTokenIds);
  }
  // Items are read only when their list is within its limit.
  if (problems.length === 0) {
    for (const [field, spec] of [
      ['student', w.student],
      ['reference', w.reference],
      ['judge', w.judge],
    ] as const) {
      chars(problems, `${field}.modelId`, spec?.modelId, L.nameChars);
      chars(problems, `${field}.checkpointUri`, spec?.checkpointUri, L.uriChars);
    }
    chars(problems, 'reward.judgeTemplateName', w.reward?.judgeTemplateName, L.nameChars);
    let toy = 0;
    w.dataMix.forEach((d, i) => {
      chars(problems, `dataMix[${i}].name`, d.name, L.nameChars);
      chars(problems, `dataMix[${i}].split`, d.split, L.nameChars);
      if (d.name === 'toy') toy += d.limit || TOY_DEFAULT_LIMIT;
    });
    if (toy > L.toyProblems)
      problems.push({
        field: 'dataMix',
        rule: `toy sources may generate at most ${L.toyProblems} problems in all (sum of limit, 0 = ${TOY_DEFAULT_LIMIT}; got ${toy})`,
      });
    w.evalSuites.forEach((x, i) => {
      chars(problems, `evalSuites[${i}]`, x, L.nameChars);
    });
    s?.stopStrings.forEach((x, i) => {
      chars(problems, `rolloutSampling.stopStrings[${i}]`, x, L.stopStringChars);
    });
  }
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  ${p.field}: ${p.rule}`).join('\n');
  throw new VerdictError(
    'INVALID_ARGUMENT',
    `run config too large (${problems.length} problem(s)):\n${lines}`,
    {
      field: problems[0]!.field,
      details: { problems },
    },
  );
}
