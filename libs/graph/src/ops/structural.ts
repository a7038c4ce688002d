import { toNumbers } from '../dtype.js';
import { dimAdd, dimsEqual, formatShape, isInteger, normalizeAxis } from '../shape.js';
import type { Attrs, Dim, GraphView, OpDef, Shape, Value } from '../types.js';

function constInts(graph: GraphView, op: string, name: string | undefined): number[] {
  if (name === undefined) throw new Error(`${op}: missing constant input`);
  const t = graph.constantData(name);
  if (!t) throw new Error(`${op}: input ${name} must be a constant`);
  return toNumbers(t.data);
}

/** Output shape decided by the builder (ops whose shape comes from a runtime tensor). */
function builderShape(op: string, attrs: Attrs): Shape {
  const s = attrs['_shape'];
  if (!Array.isArray(s)) throw new Error(`${op}: missing builder shape`);
  return s as Dim[];
}

function first(op: string, inputs: readonly Value[]): Value {
  const x = inputs[0];
  if (!x) throw new Error(`${op}: missing input`);
  return x;
}

export const structuralOps: OpDef[] = [
  {
    name: 'Reshape',
    infer: (inputs, attrs) => [
      { dtype: first('Reshape', inputs).dtype, shape: builderShape('Reshape', attrs) },
    ],
  },
  {
    name: 'Expand',
    infer: (inputs, attrs) => [
      { dtype: first('Expand', inputs).dtype, shape: builderShape('Expand', attrs) },
    ],
  },
  {
    name: 'Slice',
    infer: (inputs, attrs) => [{ dtype: first('Slice', inputs).dtype, shape: builderShape('Slice', attrs) }],
  },
  {
    name: 'Range',
    infer: (inputs, attrs) => [{ dtype: first('Range', inputs).dtype, shape: builderShape('Range', attrs) }],
  },
  {
    name: 'Transpose',
    attrTypes: { perm: 'ints' },
    infer(inputs, attrs) {
      const x = first('Transpose', inputs);
      const perm = attrs['perm'] as number[];
      if (perm.length !== x.shape.length || [...perm].sort().some((p, i) => p !== i)) {
        throw new Error(`Transpose: bad perm [${perm}] for ${formatShape(x.shape)}`);
      }
      return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p] as Dim) }];
    },
  },
  {
    name: 'Concat',
    attrTypes: { axis: 'int' },
    infer(inputs, attrs) {
      const x = first('Concat', inputs);
      const axis = normalizeAxis(attrs['axis'] as number, x.shape.length);
      let total: Dim = 0;
      for (const v of inputs) {
        if (v.dtype !== x.dtype || v.shape.length !== x.shape.length) {
          throw new Error(
            `Concat: ${v.name} ${v.dtype}${formatShape(v.shape)} vs ${x.dtype}${formatShape(x.shape)}`,
          );
        }
        v.shape.forEach((d, i) => {
          if (i !== axis && !dimsEqual(d, x.shape[i] as Dim)) {
            throw new Error(
              `Concat: shapes differ off axis: ${formatShape(v.shape)} vs ${formatShape(x.shape)}`,
            );
          }
        });
        total = dimAdd(total, v.shape[axis] as Dim);
      }
      const shape = [...x.shape];
      shape[axis] = total;
      return [{ dtype: x.dtype, shape }];
    },
  },
  {
    name: 'Split',
    attrTypes: { axis: 'int' },
    infer(inputs, attrs, graph) {
      const x = first('Split', inputs);
      const axis = normalizeAxis(attrs['axis'] as number, x.shape.length);
      const sizes = constInts(graph, 'Split', inputs[1]?.name);
      const d = x.shape[axis] as Dim;
      const sum = sizes.reduce((a, b) => a + b, 0);
      if (typeof d === 'number' && d !== sum) throw new Error(`Split: sizes [${sizes}] do not sum to ${d}`);
      return sizes.map((s) => {
        const shape = [...x.shape];
        shape[axis] = s;
        return { dtype: x.dtype, shape };
      });
    },
  },
  {
    name: 'Squeeze',
    infer(inputs, _attrs, graph) {
      const x = first('Squeeze', inputs);
      const axes = constInts(graph, 'Squeeze', inputs[1]?.name).map((a) => normalizeAxis(a, x.shape.length));
      for (const a of axes) {
        if (x.shape[a] !== 1) throw new Error(`Squeeze: axis ${a} of ${formatShape(x.shape)} is not 1`);
      }
      return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
    },
  },
  {
    name: 'Unsqueeze',
    infer(inputs, _attrs, graph) {
      const x = first('Unsqueeze', inputs);
      const rank = x.shape.length + constInts(graph, 'Unsqueeze', inputs[1]?.name).length;
      const axes = constInts(graph, 'Unsqueeze', inputs[1]?.name).map((a) => normalizeAxis(a, rank));
      const shape: Dim[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : (x.shape[k++] as Dim));
      return [{ dtype: x.dtype, shape }];
    },
  },
  {
    name: 'Shape',
    attrTypes: { start: 'int', end: 'int' },
    infer(inputs, attrs) {
      const x = first('Shape', inputs);
      const r = x.shape.length;
      const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
      const start = clamp((attrs['start'] as number | undefined) ?? 0);
      const end = clamp((attrs['end'] as number | undefined) ?? r);
      return [{ dtype: 'int64', shape: [Math.max(0, end - start)] }];
    },
  },
  {
    name: 'Gather',
    attrTypes: { axis: 'int' },
    infer(inputs, attrs) {
      const [data, idx] = inputs as [Value, Value];
      if (!isInteger(idx.dtype)) throw new Error(`Gather: indices must be int32/int64, got ${idx.dtype}`);
      const axis = normalizeAxis(attrs['axis'] as number, data.shape.length);
      const shape = [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)];
      return [{ dtype: data.dtype, shape }];
    },
  },
  {
    name: 'GatherElements',
    attrTypes: { axis: 'int' },
    infer(inputs, attrs) {
      const [data, idx] = inputs as [Value, Value];
      if (!isInteger(idx.dtype)) throw new Error(`GatherElements: indices must be integer, got ${idx.dtype}`);
      if (idx.shape.length !== data.shape.length) throw new Error('GatherElements: rank mismatch');
      normalizeAxis(attrs['axis'] as number, data.shape.length);
      return [{ dtype: data.dtype, shape: idx.shape }];
    },
  },
  {
    name: 'Trilu',
    attrTypes: { upper: 'int' },
    infer(inputs) {
      const x = first('Trilu', inputs);
      if (x.shape.length < 2) throw new Error('Trilu: rank must be >= 2');
      return [{ dtype: x.dtype, shape: x.shape }];
    },
  },
];
