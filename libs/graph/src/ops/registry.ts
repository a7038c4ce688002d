import type { OpDef } from '../types.js';
import { elementwiseOps } from './elementwise.js';
import { linalgOps } from './linalg.js';
import { structuralOps } from './structural.js';

/** Every primitive op, keyed by builder op name. The single place an op is defined. */
export const OPS: ReadonlyMap<string, OpDef> = new Map(
  [...elementwiseOps, ...structuralOps, ...linalgOps].map((d) => [d.name, d]),
);

export function getOp(name: string): OpDef {
  const def = OPS.get(name);
  if (!def) throw new Error(`unknown op ${name}`);
  return def;
}
