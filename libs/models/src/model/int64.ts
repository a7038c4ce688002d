/** True where a 64-bit integer's low 32 bits come first in memory (every platform Node ships on but s390x). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Writes `count` of `values` (integers) from `from` into `out` at index `offset`. Values within int32 go in as two 32-bit
 * words (low word, sign word) instead of through `BigInt(v)`: a decode step converts batch × cache
 * mask entries, and a heap BigInt per entry was the generation loop's main garbage.
 */
export function writeInt64(
  out: BigInt64Array,
  values: ArrayLike<number>,
  offset = 0,
  from = 0,
  count = values.length - from,
): void {
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < count; i++) out[offset + i] = BigInt(values[from + i]!);
    return;
  }
  const words = new Int32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let i = 0; i < count; i++) {
    const v = values[from + i]!;
    if ((v | 0) === v) {
      words[2 * (offset + i)] = v;
      words[2 * (offset + i) + 1] = v < 0 ? -1 : 0;
    } else {
      out[offset + i] = BigInt(v);
    }
  }
}

/** Token ids, masks and positions as the int64 tensor data ONNX graphs take. */
export function int64(values: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(values.length);
  writeInt64(out, values);
  return out;
}
