// Raw mutations of request bytes: what a broken or hostile client puts on the wire.
import type { Rng } from './rng.js';

/** Mutates valid bytes into (mostly) invalid ones. */
export function mutate(rng: Rng, input: Uint8Array, notes: string[]): Uint8Array {
  let b = Buffer.from(input);
  const steps = rng.range(1, 4);
  for (let s = 0; s < steps; s++) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(9)) {
      case 0:
        if (b.length > 0) b[at] = b[at]! ^ (1 << rng.int(8));
        notes.push(`flip @${at}`);
        break;
      case 1:
        if (b.length > 0) b[at] = rng.u32() & 0xff;
        notes.push(`byte @${at}`);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 16)), b.subarray(at)]);
        notes.push(`insert @${at}`);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.range(1, 16))]);
        notes.push(`delete @${at}`);
        break;
      case 4:
        b = b.subarray(0, at);
        notes.push(`truncate @${at}`);
        break;
      case 5:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rng.range(1, 64)), b.subarray(at)]);
        notes.push(`duplicate @${at}`);
        break;
      case 6: {
        // A tag then a varint of ten 0xff bytes (more than 64 bits).
        const bad = Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        b = Buffer.concat([b.subarray(0, at), bad, b.subarray(at)]);
        notes.push(`long varint @${at}`);
        break;
      }
      case 7: {
        // A length-delimited field whose length prefix claims ~2 GiB.
        const lying = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x41]);
        b = Buffer.concat([b.subarray(0, at), lying, b.subarray(at)]);
        notes.push(`lying length @${at}`);
        break;
      }
      default:
        b = Buffer.from(rng.bytes(rng.size(256)));
        notes.push('random bytes');
    }
  }
  return b;
}
