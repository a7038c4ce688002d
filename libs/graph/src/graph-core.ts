import { dtypeOfArray, ONNX_DTYPE, typedArrayFrom } from './dtype.js';
import { getOp } from './ops/registry.js';
import { formatShape, numElements } from './shape.js';
import type { AnyTypedArray, Attrs, Dim, DType, GraphView, Node, Shape, Tensor, Value } from './types.js';

/** A named weight: an initializer for inference, or a graph input for training (see toOnnxModel). */
export interface Param {
  readonly value: Value;
  readonly data: AnyTypedArray | undefined;
}

/**
 * Stands for an omitted optional input of an op (emitted as the empty name ONNX reserves for it),
 * e.g. the rotary caches of com.microsoft GroupQueryAttention when rotary is applied outside.
 */
export const ABSENT_INPUT: Value = Object.freeze({ name: '', dtype: 'float32', shape: Object.freeze([]) });

/** Small constants are deduplicated by content; bigger ones are kept as they come. */
const DEDUP_MAX_BYTES = 1 << 16;

/**
 * Storage and bookkeeping of a graph: values, nodes, inputs, params, constants, outputs,
 * and where each symbolic dim can be read at run time. Ops live in GraphBuilder.
 */
export class GraphCore implements GraphView {
  readonly nodes: Node[] = [];
  readonly values = new Map<string, Value>();
  readonly inputs: Value[] = [];
  readonly params = new Map<string, Param>();
  readonly constants = new Map<string, Tensor>();
  readonly outputs: Value[] = [];
  readonly opsetImports = new Map<string, number>([['', 18]]);
  private readonly constantKeys = new Map<string, string>();
  private readonly dimSources = new Map<string, { value: string; axis: number }>();
  private readonly dimTensors = new Map<string, Value>();
  private counter = 0;

  value(name: string): Value {
    const v = this.values.get(name);
    if (!v) throw new Error(`unknown value ${name}`);
    return v;
  }

  constantData(name: string): Tensor | undefined {
    return this.constants.get(name);
  }

  /** A fresh value name with a readable prefix. */
  freshName(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.values.has(name));
    return name;
  }

  protected register(name: string, dtype: DType, shape: Shape): Value {
    if (this.values.has(name)) throw new Error(`value name ${name} is already used`);
    const v: Value = { name, dtype, shape: [...shape] };
    this.values.set(name, v);
    shape.forEach((d, axis) => {
      if (typeof d === 'string' && !this.dimSources.has(d)) this.dimSources.set(d, { value: name, axis });
    });
    return v;
  }

  /** A graph input fed at run time. Dims may be symbolic names. */
  input(name: string, dtype: DType, shape: Shape): Value {
    const v = this.register(name, dtype, shape);
    this.inputs.push(v);
    return v;
  }

  /** A named weight (fixed numeric shape). `data` is needed only when emitted as an initializer. */
  param(name: string, dtype: DType, shape: readonly number[], data?: AnyTypedArray): Value {
    if (data && data.length !== numElements(shape)) {
      throw new Error(`param ${name}: ${data.length} elements for shape ${formatShape(shape)}`);
    }
    if (data && dtypeOfArray(data) !== dtype && dtype !== 'bool') {
      throw new Error(`param ${name}: data is ${dtypeOfArray(data)}, declared ${dtype}`);
    }
    const v = this.register(name, dtype, shape);
    this.params.set(name, { value: v, data });
    return v;
  }

  /** A constant tensor (deduplicated when small). */
  constant(
    data: AnyTypedArray,
    dims: readonly number[] = [data.length],
    dtype: DType = dtypeOfArray(data),
  ): Value {
    if (data.length !== numElements(dims))
      throw new Error(`constant: ${data.length} elements for ${formatShape(dims)}`);
    let key: string | undefined;
    if (data.byteLength <= DEDUP_MAX_BYTES) {
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
      key = `${dtype}|${dims.join(',')}|${bytes}`;
      const hit = this.constantKeys.get(key);
      if (hit) return this.value(hit);
    }
    const name = this.freshName('const');
    const v = this.register(name, dtype, dims);
    this.constants.set(name, { dtype, dims: [...dims], data } as Tensor);
    if (key) this.constantKeys.set(key, name);
    return v;
  }

  /** A named constant: always an initializer (also with params: 'inputs'), never deduplicated. */
  initializer(
    name: string,
    data: AnyTypedArray,
    dims: readonly number[] = [data.length],
    dtype?: DType,
  ): Value {
    const dt = dtype ?? dtypeOfArray(data);
    if (data.length !== numElements(dims))
      throw new Error(`initializer ${name}: ${data.length} elements for ${formatShape(dims)}`);
    const v = this.register(name, dt, dims);
    this.constants.set(name, { dtype: dt, dims: [...dims], data } as Tensor);
    return v;
  }

  /** A scalar (rank-0) constant. */
  scalar(value: number, dtype: DType = 'float32'): Value {
    return this.constant(typedArrayFrom(dtype, [value]), [], dtype);
  }

  /** A 1-D int64 constant. */
  ints(values: readonly number[]): Value {
    return this.constant(typedArrayFrom('int64', values), [values.length], 'int64');
  }

  /** Appends a node of a registered op; infers and returns its outputs. */
  node(op: string, inputs: readonly Value[], attrs: Attrs = {}, outputNames?: readonly string[]): Value[] {
    const def = getOp(op);
    for (const v of inputs) {
      if (v !== ABSENT_INPUT && this.values.get(v.name) !== v)
        throw new Error(`${op}: input ${v.name} is not a value of this graph`);
    }
    const types = def.infer(inputs, attrs, this);
    const outs = types.map((t, i) =>
      this.register(outputNames?.[i] ?? this.freshName(op.toLowerCase()), t.dtype, t.shape),
    );
    const domain = def.domain ?? '';
    if (domain !== '' && !this.opsetImports.has(domain)) this.opsetImports.set(domain, 1);
    this.nodes.push({
      op,
      inputs: inputs.map((v) => v.name),
      outputs: outs.map((v) => v.name),
      attrs,
      domain,
    });
    return outs;
  }

  node1(op: string, inputs: readonly Value[], attrs: Attrs = {}): Value {
    return this.node(op, inputs, attrs)[0] as Value;
  }

  /** Marks `value` as a graph output named `name` (an Identity is added when the names differ). */
  output(name: string, value: Value): Value {
    const out =
      value.name === name && !this.constants.has(name) && !this.inputs.includes(value)
        ? value
        : (this.node('Identity', [value], {}, [name])[0] as Value);
    this.outputs.push(out);
    return out;
  }

  /** 1-D int64 tensor [1] holding the run-time size of `dim`. */
  dimTensor(dim: Dim): Value {
    if (typeof dim === 'number') return this.ints([dim]);
    const cached = this.dimTensors.get(dim);
    if (cached) return cached;
    let t: Value;
    const src = this.dimSources.get(dim);
    if (src) {
      t = this.node1('Shape', [this.value(src.value)], { start: src.axis, end: src.axis + 1 });
    } else {
      const sum = splitTopLevel(dim, '+');
      const prod = splitTopLevel(dim, '*');
      const parts = sum.length > 1 ? sum : prod;
      if (parts.length < 2)
        throw new Error(`symbolic dim '${dim}' appears in no value yet: cannot compute it`);
      const ps = parts.map((p) => (/^-?\d+$/.test(p) ? Number(p) : stripParens(p)));
      t = ps
        .slice(1)
        .reduce<Value>(
          (acc, p) => this.node1(sum.length > 1 ? 'Add' : 'Mul', [acc, this.dimTensor(p)]),
          this.dimTensor(ps[0] as Dim),
        );
    }
    this.dimTensors.set(dim, t);
    return t;
  }

  /** 1-D int64 tensor of a (possibly symbolic) shape. */
  shapeTensor(dims: readonly Dim[]): Value {
    if (dims.every((d) => typeof d === 'number')) return this.ints(dims as number[]);
    return this.node1(
      'Concat',
      dims.map((d) => this.dimTensor(d)),
      { axis: 0 },
    );
  }

  /** Scalar of the run-time size of `dim` (for Range limits, scales, ...). */
  dimScalar(dim: Dim, dtype: DType = 'int64'): Value {
    if (typeof dim === 'number') return this.scalar(dim, dtype);
    const s = this.node1('Squeeze', [this.dimTensor(dim), this.ints([0])]);
    return dtype === 'int64' ? s : this.node1('Cast', [s], { to: onnxCode(dtype) });
  }
}

function onnxCode(dtype: DType): number {
  return ONNX_DTYPE[dtype];
}

function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === sep && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function stripParens(s: string): string {
  return s.startsWith('(') && s.endsWith(')') ? s.slice(1, -1) : s;
}
