import { broadcastShapes, formatShape, isInteger, normalizeAxis } from '../shape.js';
import type { OpDef, Value } from '../types.js';

// Primitives that reverse-mode autodiff emits (gradient accumulation and scatter-add gradients
// of Gather/GatherElements). Registered with registerOp by src/autodiff/grad.ts.

function inputsOf(op: string, inputs: readonly Value[], n: number): Value[] {
  if (inputs.length !== n) throw new Error(`${op}: expected ${n} inputs, got ${inputs.length}`);
  return [...inputs];
}

export const autodiffOps: OpDef[] = [
  {
    // Variadic, broadcasting sum: one node per accumulated gradient instead of an Add chain.
    name: 'Sum',
    infer(inputs) {
      const x = inputs[0];
      if (!x) throw new Error('Sum: no inputs');
      for (const v of inputs) {
        if (v.dtype !== x.dtype) throw new Error(`Sum: dtype ${v.dtype} vs ${x.dtype}`);
      }
      return [{ dtype: x.dtype, shape: broadcastShapes(...inputs.map((v) => v.shape)) }];
    },
  },
  {
    // data[idx[..., :]] (+)= updates; reduction 'add' accumulates duplicate indices.
    name: 'ScatterND',
    attrTypes: { reduction: 'string' },
    infer(inputs) {
      const [data, idx, upd] = inputsOf('ScatterND', inputs, 3) as [Value, Value, Value];
      if (!isInteger(idx.dtype)) throw new Error(`ScatterND: indices must be integer, got ${idx.dtype}`);
      if (upd.dtype !== data.dtype) throw new Error(`ScatterND: updates ${upd.dtype} vs data ${data.dtype}`);
      const k = idx.shape[idx.shape.length - 1];
      const want = typeof k === 'number' ? idx.shape.length - 1 + data.shape.length - k : upd.shape.length;
      if (upd.shape.length !== want) {
        throw new Error(
          `ScatterND: updates ${formatShape(upd.shape)} do not fit indices ${formatShape(idx.shape)}`,
        );
      }
      return [{ dtype: data.dtype, shape: data.shape }];
    },
  },
  {
    // data[..., idx[i], ...] (+)= updates[i] along `axis`.
    name: 'ScatterElements',
    attrTypes: { axis: 'int', reduction: 'string' },
    infer(inputs, attrs) {
      const [data, idx, upd] = inputsOf('ScatterElements', inputs, 3) as [Value, Value, Value];
      if (!isInteger(idx.dtype))
        throw new Error(`ScatterElements: indices must be integer, got ${idx.dtype}`);
      if (idx.shape.length !== data.shape.length || upd.shape.length !== data.shape.length) {
        throw new Error('ScatterElements: data, indices and updates must have the same rank');
      }
      normalizeAxis((attrs['axis'] as number | undefined) ?? 0, data.shape.length);
      return [{ dtype: data.dtype, shape: data.shape }];
    },
  },
];
