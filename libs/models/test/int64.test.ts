import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { int64, writeInt64 } from '../src/model/int64.js';

describe('int64 tensor data', () => {
  it('equals BigInt conversion for ids, masks, negatives and values past int32', () => {
    const values = [0, 1, -1, 2, 470, 151_935, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 3];
    assert.deepEqual([...int64(values)], values.map(BigInt));
  });

  it('writes a slice at an offset and leaves the rest alone', () => {
    const out = new BigInt64Array(8).fill(7n);
    writeInt64(out, [9, 8, -5, 4, 3], 2, 1, 3);
    assert.deepEqual([...out], [7n, 7n, 8n, -5n, 4n, 7n, 7n, 7n]);
    // A view into a larger buffer (a tensor's data may not start at byte 0).
    const backing = new BigInt64Array(6);
    const view = new BigInt64Array(backing.buffer, 16, 3);
    writeInt64(view, [-2, 0, 5]);
    assert.deepEqual([...backing], [0n, 0n, -2n, 0n, 5n, 0n]);
  });

  it('rejects a non-integer as BigInt does', () => {
    assert.throws(() => int64([1.5]), RangeError);
  });
});
