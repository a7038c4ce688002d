import { toNumbers } from '../dtype.js';
import { broadcastShapes, dimsEqual, formatShape, normalizeAxis } from '../shape.js';
import type { Dim, OpDef, Value } from '../types.js';

function reduce(name: string): OpDef {
  return {
    name,
    attrTypes: { keepdims: 'int' },
    infer(inputs, attrs, graph) {
      const x = inputs[0] as Value;
      const axesName = inputs[1]?.name;
      const axesData = axesName === undefined ? undefined : graph.constantData(axesName);
      if (!axesData) throw new Error(`${name}: axes must be a constant input`);
      const rank = x.shape.length;
      const axes = toNumbers(axesData.data).map((a) => normalizeAxis(a, rank));
      const keep = (attrs['keepdims'] ?? 1) === 1;
      const shape: Dim[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (keep) shape.push(1);
      });
      return [{ dtype: x.dtype, shape }];
    },
  };
}

export const linalgOps: OpDef[] = [
  ...['ReduceSum', 'ReduceMean', 'ReduceMax'].map(reduce),
  {
    name: 'MatMul',
    infer(inputs) {
      const [a, b] = inputs as [Value, Value];
      if (a.dtype !== b.dtype) throw new Error(`MatMul: dtype ${a.dtype} vs ${b.dtype}`);
      if (a.shape.length < 2 || b.shape.length < 2) {
        throw new Error(
          `MatMul: operands must be at least 2-D, got ${formatShape(a.shape)}, ${formatShape(b.shape)}`,
        );
      }
      const k1 = a.shape[a.shape.length - 1] as Dim;
      const k2 = b.shape[b.shape.length - 2] as Dim;
      if (!dimsEqual(k1, k2)) {
        throw new Error(`MatMul: inner dims differ: ${formatShape(a.shape)} x ${formatShape(b.shape)}`);
      }
      const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
      return [
        {
          dtype: a.dtype,
          shape: [...batch, a.shape[a.shape.length - 2] as Dim, b.shape[b.shape.length - 1] as Dim],
        },
      ];
    },
  },
];
