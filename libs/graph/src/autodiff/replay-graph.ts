import { ONNX_DTYPE } from '../dtype.js';
import type { GraphBuilder } from '../graph-builder.js';
import type { AnyTypedArray, DType, Value } from '../types.js';

export interface ReplayOptions {
  /** Element type that float32 and float64 values become (inputs, params, constants, Cast targets). */
  readonly floatDtype?: 'float32' | 'float64';
}

function convertFloat(data: AnyTypedArray, dtype: DType): AnyTypedArray {
  if (dtype === 'float64' && data instanceof Float32Array) return Float64Array.from(data);
  if (dtype === 'float32' && data instanceof Float64Array) return Float32Array.from(data);
  return data;
}

/**
 * Copies every input, param, constant and node of `src` into `dst` (empty or not), keeping value
 * names, optionally switching the float type. Lets a graph that an architecture builds in float32
 * only be re-checked in float64 (finite differences need double precision). Outputs are not copied;
 * returns the map from `src` value names to `dst` values.
 */
export function replayGraph(
  dst: GraphBuilder,
  src: GraphBuilder,
  opts: ReplayOptions = {},
): Map<string, Value> {
  const float = opts.floatDtype;
  const conv = (d: DType): DType => (float && (d === 'float32' || d === 'float64') ? float : d);
  const map = new Map<string, Value>();
  for (const v of src.inputs) map.set(v.name, dst.input(v.name, conv(v.dtype), v.shape));
  for (const [name, p] of src.params) {
    const dtype = conv(p.value.dtype);
    const data = p.data && convertFloat(p.data, dtype);
    map.set(name, dst.param(name, dtype, p.value.shape as number[], data));
  }
  for (const [name, t] of src.constants) {
    const dtype = conv(t.dtype);
    // Same names (named initializers stay named); small anonymous constants are no longer deduplicated.
    map.set(name, dst.initializer(name, convertFloat(t.data, dtype), t.dims, dtype));
  }
  const floatCodes = new Set<number>([ONNX_DTYPE.float32, ONNX_DTYPE.float64]);
  for (const n of src.nodes) {
    const to = n.attrs['to'];
    const attrs =
      float && n.op === 'Cast' && typeof to === 'number' && floatCodes.has(to)
        ? { ...n.attrs, to: ONNX_DTYPE[float] }
        : n.attrs;
    const inputs = n.inputs.map((i) => {
      const v = map.get(i);
      if (!v) throw new Error(`replayGraph: ${i} is not defined before ${n.op}`);
      return v;
    });
    for (const v of dst.node(n.op, inputs, attrs, n.outputs)) map.set(v.name, v);
  }
  return map;
}
