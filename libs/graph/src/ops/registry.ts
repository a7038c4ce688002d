import type { OpDef } from '../types.js';
import { contribOps } from './contrib.js';
import { elementwiseOps } from './elementwise.js';
import { linalgOps } from './linalg.js';
import { structuralOps } from './structural.js';

/** Every primitive op, keyed by builder op name. The single place an op is defined. */
const ops = new Map<string, OpDef>(
  [...elementwiseOps, ...structuralOps, ...linalgOps, ...contribOps].map((d) => [d.name, d]),
);
export const OPS: ReadonlyMap<string, OpDef> = ops;

/**
 * Adds an op definition (e.g. a com.microsoft contrib op for inference graphs) so `g.node(name, ...)`
 * can use it. Names are global and must be unique; re-registering the identical object is a no-op.
 */
export function registerOp(def: OpDef): void {
  const existing = ops.get(def.name);
  if (existing && existing !== def) throw new Error(`op ${def.name} is already defined`);
  ops.set(def.name, def);
}

export function getOp(name: string): OpDef {
  const def = OPS.get(name);
  if (!def) throw new Error(`unknown op ${name}`);
  return def;
}
