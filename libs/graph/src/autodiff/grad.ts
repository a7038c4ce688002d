import type { GraphBuilder } from '../graph-builder.js';
import { autodiffOps } from '../ops/autodiff-ops.js';
import { registerOp } from '../ops/registry.js';
import { isFloat } from '../shape.js';
import type { Value } from '../types.js';
import { NON_DIFFERENTIABLE, VJP_RULES } from './vjp-rules.js';

for (const def of autodiffOps) registerOp(def);

export interface GradOptions {
  /** Extra graph outputs (metrics, logits, ...) added next to the loss, by output name. */
  readonly extraOutputs?: Readonly<Record<string, Value>>;
  /** Output name of the loss (default 'loss'). */
  readonly lossName?: string;
  /** Gradient outputs are named `${gradPrefix}${value name}` (default 'grad.'). */
  readonly gradPrefix?: string;
}

export interface GradResult {
  /** The same builder, with the backward nodes and the outputs appended. */
  readonly graph: GraphBuilder;
  /** Gradient value of each `wrt` value, keyed by the wrt value's name (same shape and dtype). */
  readonly gradients: ReadonlyMap<string, Value>;
  /** Output name of each gradient, keyed by the wrt value's name. */
  readonly gradOutputNames: ReadonlyMap<string, string>;
}

/**
 * Reverse-mode autodiff over `g.nodes`. Appends the backward pass to `g` and adds graph outputs:
 * the loss, `extraOutputs`, and one gradient per `wrt` value ('params' = every float param).
 *
 * - Forward sweep: a value requires grad if it is a float output of a differentiable node with an
 *   input that requires grad (integer/bool values and NON_DIFFERENTIABLE ops stop it).
 * - Reverse sweep over the nodes: contributions to a value are collected and summed with one
 *   variadic Sum when its producer is reached (a param used twice, e.g. a tied embedding, gets both).
 * - A non-scalar loss is seeded with ones (the gradient of its sum). A wrt value the loss does not
 *   depend on gets zeros.
 */
export function grad(
  g: GraphBuilder,
  loss: Value,
  wrt: readonly Value[] | 'params',
  opts: GradOptions = {},
): GradResult {
  if (!isFloat(loss.dtype)) throw new Error(`grad: loss must be float, got ${loss.dtype}`);
  const targets =
    wrt === 'params' ? [...g.params.values()].map((p) => p.value).filter((v) => isFloat(v.dtype)) : wrt;
  for (const t of targets) {
    if (!isFloat(t.dtype)) throw new Error(`grad: cannot differentiate with respect to ${t.dtype} ${t.name}`);
  }
  const forward = g.nodes.slice();
  const requires = new Set(targets.map((t) => t.name));
  for (const n of forward) {
    if (NON_DIFFERENTIABLE.has(n.op) || !n.inputs.some((i) => requires.has(i))) continue;
    for (const o of n.outputs) if (isFloat(g.value(o).dtype)) requires.add(o);
  }

  const contributions = new Map<string, Value[]>();
  const summed = new Map<string, Value | undefined>();
  const add = (name: string, v: Value) => {
    if (summed.has(name)) throw new Error(`grad: contribution to ${name} after it was summed`);
    const list = contributions.get(name);
    if (list) list.push(v);
    else contributions.set(name, [v]);
  };
  const gradOf = (name: string): Value | undefined => {
    if (summed.has(name)) return summed.get(name);
    const list = contributions.get(name);
    const v = !list ? undefined : list.length === 1 ? list[0] : g.node1('Sum', list);
    summed.set(name, v);
    return v;
  };

  if (requires.has(loss.name)) {
    const one = g.scalar(1, loss.dtype);
    add(loss.name, loss.shape.length === 0 ? one : g.expand(one, loss.shape));
  }
  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k];
    if (!node || NON_DIFFERENTIABLE.has(node.op)) continue;
    if (!node.outputs.some((o) => requires.has(o) && contributions.has(o))) continue;
    const needs = node.inputs.map((i) => requires.has(i));
    if (!needs.some(Boolean)) continue;
    const rule = VJP_RULES.get(node.op);
    if (!rule) throw new Error(`grad: no VJP rule for op ${node.op} (output ${node.outputs[0]})`);
    const dys = node.outputs.map((o) => (requires.has(o) ? gradOf(o) : undefined));
    const grads = rule({
      g,
      node,
      inputs: node.inputs.map((i) => g.value(i)),
      outputs: node.outputs.map((o) => g.value(o)),
      dys,
    });
    node.inputs.forEach((name, i) => {
      if (!needs[i]) return;
      const thunk = grads[i];
      if (!thunk) throw new Error(`grad: ${node.op} gives no gradient for its input ${i} (${name})`);
      add(name, thunk());
    });
  }

  g.output(opts.lossName ?? 'loss', loss);
  for (const [name, v] of Object.entries(opts.extraOutputs ?? {})) g.output(name, v);
  const prefix = opts.gradPrefix ?? 'grad.';
  const gradients = new Map<string, Value>();
  const gradOutputNames = new Map<string, string>();
  for (const t of targets) {
    const d = gradOf(t.name) ?? g.expand(g.scalar(0, t.dtype), t.shape);
    const outName = `${prefix}${t.name}`;
    g.output(outName, d);
    gradients.set(t.name, d);
    gradOutputNames.set(t.name, outName);
  }
  return { graph: g, gradients, gradOutputNames };
}
