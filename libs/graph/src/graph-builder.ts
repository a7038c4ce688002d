import { ONNX_DTYPE } from './dtype.js';
import { GraphCore } from './graph-core.js';
import * as nn from './nn.js';
import { broadcastShapes, dimDiv, dimMul, dimsEqual, formatShape, normalizeAxis } from './shape.js';
import type { Dim, DType, Shape, Value } from './types.js';

/** A value, or a plain number turned into a scalar constant of the other operand's dtype. */
export type Operand = Value | number;

const INT64_MAX = 9223372036854775807n;

export interface SliceSpec {
  axis: number;
  /** Default 0. A string is a symbolic dim read at run time. */
  start?: number | string;
  /** Default: to the end of the axis. */
  end?: number | string;
  step?: number;
  /**
   * The output length along `axis`, when the caller knows it better than the builder (which does
   * not simplify symbolic dims: the tail of 'capacity+seq' from 'capacity' on is 'seq').
   */
  size?: Dim;
}

/**
 * Typed graph builder. Every method appends primitive nodes and returns values whose dtype
 * and (symbolic) shape were inferred in JS, so shape errors surface while building.
 */
export class GraphBuilder extends GraphCore {
  private operand(x: Operand, like: Value): Value {
    return typeof x === 'number' ? this.scalar(x, like.dtype) : x;
  }

  private binary(op: string, a: Operand, b: Operand): Value {
    if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: both operands are numbers`);
    const av = typeof a === 'number' ? this.operand(a, b as Value) : a;
    const bv = typeof b === 'number' ? this.operand(b, av) : b;
    return this.node1(op, [av, bv]);
  }

  add(a: Operand, b: Operand): Value {
    return this.binary('Add', a, b);
  }
  sub(a: Operand, b: Operand): Value {
    return this.binary('Sub', a, b);
  }
  mul(a: Operand, b: Operand): Value {
    return this.binary('Mul', a, b);
  }
  div(a: Operand, b: Operand): Value {
    return this.binary('Div', a, b);
  }
  pow(a: Operand, b: Operand): Value {
    return this.binary('Pow', a, b);
  }
  equal(a: Operand, b: Operand): Value {
    return this.binary('Equal', a, b);
  }
  less(a: Operand, b: Operand): Value {
    return this.binary('Less', a, b);
  }
  greater(a: Operand, b: Operand): Value {
    return this.binary('Greater', a, b);
  }

  neg(x: Value): Value {
    return this.node1('Neg', [x]);
  }
  abs(x: Value): Value {
    return this.node1('Abs', [x]);
  }
  identity(x: Value): Value {
    return this.node1('Identity', [x]);
  }
  /** Forward identity; a later autodiff treats its gradient as zero. */
  stopGradient(x: Value): Value {
    return this.node1('StopGradient', [x]);
  }
  exp(x: Value): Value {
    return this.node1('Exp', [x]);
  }
  log(x: Value): Value {
    return this.node1('Log', [x]);
  }
  sqrt(x: Value): Value {
    return this.node1('Sqrt', [x]);
  }
  reciprocal(x: Value): Value {
    return this.node1('Reciprocal', [x]);
  }
  sigmoid(x: Value): Value {
    return this.node1('Sigmoid', [x]);
  }
  tanh(x: Value): Value {
    return this.node1('Tanh', [x]);
  }
  relu(x: Value): Value {
    return this.node1('Relu', [x]);
  }
  /** float32 only on ORT's CPU EP (no double kernel). */
  erf(x: Value): Value {
    return this.node1('Erf', [x]);
  }
  sin(x: Value): Value {
    return this.node1('Sin', [x]);
  }
  cos(x: Value): Value {
    return this.node1('Cos', [x]);
  }

  where(cond: Value, x: Operand, y: Operand): Value {
    const like = typeof x === 'number' ? (y as Value) : x;
    return this.node1('Where', [cond, this.operand(x, like), this.operand(y, like)]);
  }
  cast(x: Value, dtype: DType): Value {
    return x.dtype === dtype ? x : this.node1('Cast', [x], { to: ONNX_DTYPE[dtype] });
  }
  softmax(x: Value, axis = -1): Value {
    return this.node1('Softmax', [x], { axis });
  }
  logSoftmax(x: Value, axis = -1): Value {
    return this.node1('LogSoftmax', [x], { axis });
  }

  matmul(a: Value, b: Value): Value {
    return this.node1('MatMul', [a, b]);
  }

  private reduce(op: string, x: Value, axes: number | readonly number[], keepDims: boolean): Value {
    const list = typeof axes === 'number' ? [axes] : axes;
    return this.node1(op, [x, this.ints(list)], { keepdims: keepDims ? 1 : 0 });
  }
  /** Sum over `axes` (keepDims defaults to false). */
  sum(x: Value, axes: number | readonly number[], keepDims = false): Value {
    return this.reduce('ReduceSum', x, axes, keepDims);
  }
  mean(x: Value, axes: number | readonly number[], keepDims = false): Value {
    return this.reduce('ReduceMean', x, axes, keepDims);
  }
  max(x: Value, axes: number | readonly number[], keepDims = false): Value {
    return this.reduce('ReduceMax', x, axes, keepDims);
  }

  /** Reshape to `dims` (numbers, symbolic names, at most one -1). */
  reshape(x: Value, dims: readonly Dim[]): Value {
    const total = x.shape.reduce<Dim>((a, d) => dimMul(a, d), 1);
    const inferAt = dims.indexOf(-1);
    if (dims.indexOf(-1, inferAt + 1) >= 0) throw new Error('reshape: more than one -1');
    const out = [...dims];
    if (inferAt >= 0) {
      const known = dims.reduce<Dim>((a, d, i) => (i === inferAt ? a : dimMul(a, d)), 1);
      const rest = dimDiv(total, known);
      if (rest === undefined)
        throw new Error(`reshape: cannot infer -1 of ${formatShape(dims)} from ${formatShape(x.shape)}`);
      out[inferAt] = rest;
    } else if (
      !dimsEqual(
        out.reduce<Dim>((a, d) => dimMul(a, d), 1),
        total,
      )
    ) {
      throw new Error(`reshape: ${formatShape(x.shape)} cannot become ${formatShape(dims)}`);
    }
    // Encode symbolic dims as 0 (copy from the input) or -1 (inferred) where possible; else read them at run time.
    const code: (number | undefined)[] = dims.map((d, i) =>
      typeof d === 'number' ? d : dimsEqual(d, x.shape[i] ?? -2) ? 0 : undefined,
    );
    const unknown = code.filter((c) => c === undefined).length;
    let shapeValue: Value;
    if (unknown === 0) shapeValue = this.ints(code as number[]);
    else if (unknown === 1 && inferAt < 0) shapeValue = this.ints(code.map((c) => c ?? -1));
    else {
      const parts = dims.map((d, i) => (i === inferAt ? this.ints([-1]) : this.dimTensor(code[i] ?? d)));
      shapeValue = this.node1('Concat', parts, { axis: 0 });
    }
    return this.node1('Reshape', [x, shapeValue], { _shape: out });
  }

  transpose(x: Value, perm: readonly number[]): Value {
    return this.node1('Transpose', [x], { perm });
  }
  /** Swaps the last two axes. */
  transposeLast2(x: Value): Value {
    const r = x.shape.length;
    const perm = [...Array(r).keys()];
    perm[r - 1] = r - 2;
    perm[r - 2] = r - 1;
    return this.transpose(x, perm);
  }

  concat(values: readonly Value[], axis: number): Value {
    return this.node1('Concat', values, { axis });
  }
  split(x: Value, sizes: readonly number[], axis: number): Value[] {
    return this.node('Split', [x, this.ints(sizes)], { axis });
  }
  squeeze(x: Value, axes: number | readonly number[]): Value {
    return this.node1('Squeeze', [x, this.ints(typeof axes === 'number' ? [axes] : axes)]);
  }
  unsqueeze(x: Value, axes: number | readonly number[]): Value {
    return this.node1('Unsqueeze', [x, this.ints(typeof axes === 'number' ? [axes] : axes)]);
  }
  /** Broadcasts `x` to `dims` (numpy rules). */
  expand(x: Value, dims: readonly Dim[]): Value {
    const out = broadcastShapes(x.shape, dims);
    // A target dim equal to x's aligned dim can be sent as 1: Expand broadcasts it anyway.
    const off = dims.length - x.shape.length;
    const target = dims.map((d, i) => (i >= off && dimsEqual(d, x.shape[i - off] as Dim) ? 1 : d));
    return this.node1('Expand', [x, this.shapeTensor(target)], { _shape: out });
  }
  /** The run-time shape as a 1-D int64 tensor. */
  shape(x: Value): Value {
    return this.node1('Shape', [x]);
  }

  slice(x: Value, spec: SliceSpec): Value {
    const axis = normalizeAxis(spec.axis, x.shape.length);
    const d = x.shape[axis] as Dim;
    const start = spec.start ?? 0;
    const step = spec.step ?? 1;
    const outDim = spec.size ?? sliceDim(d, start, spec.end, step);
    const bound = (b: number | string | undefined, open: bigint): Value =>
      b === undefined ? this.constant(new BigInt64Array([open])) : this.dimTensor(b);
    const shape = [...x.shape];
    shape[axis] = outDim;
    return this.node1(
      'Slice',
      [
        x,
        bound(start, 0n),
        bound(spec.end, step > 0 ? INT64_MAX : -INT64_MAX),
        this.ints([axis]),
        this.ints([step]),
      ],
      { _shape: shape },
    );
  }

  gather(data: Value, indices: Value, axis = 0): Value {
    return this.node1('Gather', [data, indices], { axis });
  }
  gatherElements(data: Value, indices: Value, axis = -1): Value {
    return this.node1('GatherElements', [data, indices], { axis });
  }
  /** Lower (default) or upper triangle of the last two axes, offset by diagonal `k`. */
  trilu(x: Value, opts: { upper?: boolean; k?: number } = {}): Value {
    return this.node1('Trilu', [x, this.constant(new BigInt64Array([BigInt(opts.k ?? 0)]), [])], {
      upper: opts.upper ? 1 : 0,
    });
  }
  /** ONNX Range over scalars; `dim` names the output length. */
  range(start: Value, limit: Value, delta: Value, dim: Dim): Value {
    return this.node1('Range', [start, limit, delta], { _shape: [dim] });
  }
  /** [from, from+1, ..., from+n-1] where `n`/`from` may be symbolic. */
  arange(n: Dim, opts: { from?: Dim; dtype?: DType } = {}): Value {
    const dtype = opts.dtype ?? 'int64';
    const from = opts.from ?? 0;
    const start = this.dimScalar(from, dtype);
    const limit = from === 0 ? this.dimScalar(n, dtype) : this.add(start, this.dimScalar(n, dtype));
    return this.range(start, limit, this.scalar(1, dtype), n);
  }

  // Composites over primitives (see nn.ts): autodiff only needs primitive VJPs.
  silu = (x: Value): Value => nn.silu(this, x);
  gelu = (x: Value, approximate: 'none' | 'tanh' = 'none'): Value => nn.gelu(this, x, approximate);
  logSumExp = (x: Value, axis = -1, keepDims = false): Value => nn.logSumExp(this, x, axis, keepDims);
  rmsNorm = (x: Value, weight: Value | undefined, eps: number, opts?: nn.NormOptions): Value =>
    nn.rmsNorm(this, x, weight, eps, opts);
  layerNorm = (
    x: Value,
    weight: Value | undefined,
    bias: Value | undefined,
    eps: number,
    opts?: nn.NormOptions,
  ): Value => nn.layerNorm(this, x, weight, bias, eps, opts);
  linear = (x: Value, weight: Value, bias?: Value): Value => nn.linear(this, x, weight, bias);
  rotateHalf = (x: Value): Value => nn.rotateHalf(this, x);
  applyRotary = (x: Value, cos: Value, sin: Value): Value => nn.applyRotary(this, x, cos, sin);
  rotaryCosSin = (positions: Value, opts: nn.RotaryOptions): { cos: Value; sin: Value } =>
    nn.rotaryCosSin(this, positions, opts);
  attentionBias = (opts: nn.AttentionBiasOptions): Value => nn.attentionBias(this, opts);
  attention = (q: Value, k: Value, v: Value, bias?: Value, scale?: number): Value =>
    nn.attention(this, q, k, v, bias, scale);
}

/** Length of x[start:end:step] along a dim of size `d` (symbolic results get an expression name). */
function sliceDim(d: Dim, start: number | string, end: number | string | undefined, step: number): Dim {
  if (typeof d === 'number' && typeof start === 'number' && (end === undefined || typeof end === 'number')) {
    const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + d : v));
    if (step > 0) {
      const s = clamp(start, 0, d);
      const e = end === undefined ? d : clamp(end, 0, d);
      return Math.max(0, Math.ceil((e - s) / step));
    }
    const s = clamp(start, -1, d - 1);
    const e = end === undefined ? -1 : clamp(end, -1, d - 1);
    return Math.max(0, Math.ceil((s - e) / -step));
  }
  if (step === 1 && start === 0 && end === undefined) return d;
  if (step === 1 && start === 0 && typeof end === 'string') return end;
  if (step === 1 && typeof start === 'number' && start < 0 && end === undefined) return -start;
  if (step === 1 && typeof start === 'number' && start > 0 && end === undefined) return `${d}-${start}`;
  return `slice(${d},${start},${end ?? ''},${step})`;
}

export function createGraph(): GraphBuilder {
  return new GraphBuilder();
}

export type { Shape };
