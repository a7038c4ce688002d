import type { AnyTypedArray, DType } from './types.js';

/** onnx.TensorProto.DataType codes. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};

export function dtypeFromOnnx(code: number): DType {
  for (const [k, v] of Object.entries(ONNX_DTYPE)) if (v === code) return k as DType;
  throw new Error(`unsupported ONNX element type ${code}`);
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' || dtype === 'int64' ? 8 : dtype === 'bool' ? 1 : 4;
}

export function allocTypedArray(dtype: DType, length: number): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'bool':
      return new Uint8Array(length);
  }
}

export function dtypeOfArray(data: AnyTypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Fills a typed array of `dtype` from plain numbers (bigint for int64). */
export function typedArrayFrom(dtype: DType, values: ArrayLike<number> | readonly number[]): AnyTypedArray {
  const out = allocTypedArray(dtype, values.length);
  if (out instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) out[i] = BigInt(Math.trunc(values[i] as number));
  } else {
    for (let i = 0; i < values.length; i++) out[i] = values[i] as number;
  }
  return out;
}

/** Plain numbers from any typed array (int64 converted through Number). */
export function toNumbers(data: AnyTypedArray): number[] {
  return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}
