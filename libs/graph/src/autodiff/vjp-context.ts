import { toNumbers } from '../dtype.js';
import type { GraphBuilder } from '../graph-builder.js';
import { dimMul, normalizeAxis } from '../shape.js';
import type { Dim, Node, Shape, Value } from '../types.js';

/** What a VJP rule sees of one forward node during the reverse sweep. */
export interface VjpContext {
  readonly g: GraphBuilder;
  readonly node: Node;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  /** Gradient of each output; undefined where no gradient flows into that output (zero). */
  readonly dys: readonly (Value | undefined)[];
}

/**
 * Per input: a thunk emitting that input's gradient (built only when the input requires grad,
 * so no dead backward nodes are emitted), or undefined when the input is not differentiable.
 */
export type InputGrad = (() => Value) | undefined;

/** One op's vector-Jacobian product, written with builder ops. */
export type VjpRule = (c: VjpContext) => InputGrad[];

/** The single output gradient of a one-output op (the engine only calls rules with some dy). */
export function dy0(c: VjpContext): Value {
  const d = c.dys[0];
  if (!d) throw new Error(`${c.node.op}: missing output gradient`);
  return d;
}

export function input(c: VjpContext, i: number): Value {
  const v = c.inputs[i];
  if (!v) throw new Error(`${c.node.op}: missing input ${i}`);
  return v;
}

export function output(c: VjpContext, i = 0): Value {
  const v = c.outputs[i];
  if (!v) throw new Error(`${c.node.op}: missing output ${i}`);
  return v;
}

/** Integer contents of a constant input (axes, split sizes, perm), normalised to `rank` when given. */
export function constInts(c: VjpContext, i: number, rank?: number): number[] {
  const t = c.g.constantData(input(c, i).name);
  if (!t) throw new Error(`${c.node.op}: input ${i} must be a constant for its VJP`);
  const v = toNumbers(t.data);
  return rank === undefined ? v : v.map((a) => normalizeAxis(a, rank));
}

/**
 * Sums a broadcast gradient `dy` back to `shape` (numpy broadcasting in reverse): leading axes and
 * axes where `shape` has a literal 1 but dy does not. Static shapes decide which axes; ReduceSum and
 * Squeeze work at run time whatever the symbolic dims turn out to be.
 */
export function unbroadcast(g: GraphBuilder, dy: Value, shape: Shape): Value {
  const lead = dy.shape.length - shape.length;
  if (lead < 0) throw new Error(`unbroadcast: gradient rank ${dy.shape.length} < input rank ${shape.length}`);
  const axes: number[] = [];
  for (let i = 0; i < dy.shape.length; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && dy.shape[i] !== 1) axes.push(i);
  }
  if (axes.length === 0) return dy;
  const summed = g.sum(dy, axes, true);
  return lead === 0 ? summed : g.squeeze(summed, [...Array(lead).keys()]);
}

/** Zeros of `shape` (symbolic dims read at run time) and `like`'s dtype. */
export function zeros(g: GraphBuilder, like: Value, shape: Shape = like.shape): Value {
  return g.expand(g.scalar(0, like.dtype), shape);
}

/** Number of elements over `axes` of `shape`, as a scalar of `like`'s dtype (run-time when symbolic). */
export function countOver(g: GraphBuilder, shape: Shape, axes: readonly number[], like: Value): Value {
  const n = axes.reduce<Dim>((a, i) => dimMul(a, shape[i] as Dim), 1);
  return typeof n === 'number' ? g.scalar(n, like.dtype) : g.dimScalar(n, like.dtype);
}

/** Broadcasts a reduced gradient back over the reduced axes of `x`. */
export function unreduce(
  g: GraphBuilder,
  dy: Value,
  x: Value,
  axes: readonly number[],
  keepDims: boolean,
): Value {
  const kept = keepDims ? dy : g.unsqueeze(dy, axes);
  return g.expand(kept, x.shape);
}
