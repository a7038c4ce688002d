import { allocTypedArray, dtypeOfArray } from './dtype.js';
import { formatShape, numElements } from './shape.js';
import type { AnyTypedArray, DType, Tensor, TypedArrayFor } from './types.js';

/** Builds a Tensor, checking that data matches dims and dtype; zero-filled when `data` is omitted. */
export function createTensor<D extends DType>(
  dtype: D,
  dims: readonly number[],
  data?: TypedArrayFor<D>,
): Tensor<D> {
  const n = numElements(dims);
  const d = (data ?? allocTypedArray(dtype, n)) as TypedArrayFor<D>;
  if (d.length !== n) throw new Error(`tensor: ${d.length} elements for dims ${formatShape(dims)}`);
  if (dtype !== 'bool' && dtypeOfArray(d) !== dtype)
    throw new Error(`tensor: ${dtypeOfArray(d)} data for dtype ${dtype}`);
  if (dtype === 'bool' && !(d instanceof Uint8Array))
    throw new Error('tensor: bool data must be a Uint8Array');
  return { dtype, dims: [...dims], data: d };
}

export function isTensor(x: unknown): x is Tensor {
  if (typeof x !== 'object' || x === null) return false;
  const t = x as { dtype?: unknown; dims?: unknown; data?: unknown };
  return typeof t.dtype === 'string' && Array.isArray(t.dims) && ArrayBuffer.isView(t.data);
}

/** A deep copy (fresh buffer), e.g. to keep data that a pool run would otherwise detach. */
export function cloneTensor<D extends DType>(t: Tensor<D>): Tensor<D> {
  return { dtype: t.dtype, dims: [...t.dims], data: (t.data as AnyTypedArray).slice() as TypedArrayFor<D> };
}
