import { createHash } from 'node:crypto';
import { canonicalJson } from '../toy/toy-recipe-config.js';
import { COMPARISON_METHOD } from './arm-comparisons.js';
import type { ArmSpec } from './arms.js';
import type { ExperimentConfig } from './experiment-config.js';
import { CLAIM_RULE } from './results.js';

/**
 * Everything fixed before the arms are compared (issue 15, item 8): the preset (budget, pools,
 * evaluation sets, guard), the toy world (its hash names the student's and the judge's recipes),
 * the arms with their reward weights, the claim's rule and the statistics. Seeds are not part of
 * it: the same design is run once per seed.
 */
export interface ExperimentDesign {
  readonly config: ExperimentConfig;
  readonly toyWorldHash: string;
  readonly arms: readonly ArmSpec[];
}

/** First 16 hex digits of sha256 over the canonical design, the claim rule and the comparison method. */
export function experimentDesignHash(design: ExperimentDesign): string {
  return createHash('sha256')
    .update(canonicalJson({ ...design, claimRule: CLAIM_RULE, statistics: COMPARISON_METHOD }))
    .digest('hex')
    .slice(0, 16);
}
