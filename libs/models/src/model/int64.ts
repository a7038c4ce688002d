/** Token ids, masks and positions as the int64 tensor data ONNX graphs take. */
export function int64(values: readonly number[]): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
  return out;
}
