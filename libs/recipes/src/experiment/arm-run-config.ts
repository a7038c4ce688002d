import type { ArmSpec } from './arms.js';

/** Run id of one arm and seed (the learner run config is built by the CLI: `armRunConfig`). */
export function armRunId(arm: ArmSpec, seed: number): string {
  return `${arm.id}-s${seed}`;
}
