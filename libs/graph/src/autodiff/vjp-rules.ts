import type { VjpRule } from './vjp-context.js';
import { elementwiseVjps } from './vjp-elementwise.js';
import { linalgVjps } from './vjp-linalg.js';
import { structuralVjps } from './vjp-structural.js';

/** The VJP rule of every differentiable primitive, keyed by op name (the node's `op`). */
export const VJP_RULES: ReadonlyMap<string, VjpRule> = new Map(
  Object.entries({ ...elementwiseVjps, ...structuralVjps, ...linalgVjps }),
);

/**
 * Ops whose outputs never carry a gradient even when an input requires one: comparisons, shape
 * queries, index generation, and StopGradient (forward identity, zero gradient).
 */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set([
  'StopGradient',
  'Equal',
  'Less',
  'Greater',
  'Shape',
  'Range',
]);
