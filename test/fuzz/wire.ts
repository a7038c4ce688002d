// A protobuf wire writer that writes anything the wire can carry, valid or not: out-of-range and
// overlong varints, strings that are not UTF-8, length prefixes that lie. The library writers
// refuse most of that (they check ranges and encode strings themselves), so the fuzzer has its own.

export const WIRE = { varint: 0, fixed64: 1, ld: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

const U64 = (1n << 64n) - 1n;

export class WireWriter {
  private chunks: Uint8Array[] = [];
  private current: number[] = [];
  private bytes = 0;

  get length(): number {
    return this.bytes + this.current.length;
  }

  private flush(): void {
    if (this.current.length > 0) {
      this.chunks.push(Uint8Array.from(this.current));
      this.bytes += this.current.length;
      this.current = [];
    }
  }

  byte(b: number): this {
    this.current.push(b & 0xff);
    return this;
  }

  raw(data: Uint8Array): this {
    this.flush();
    this.chunks.push(data);
    this.bytes += data.length;
    return this;
  }

  /** Any integer as a two's-complement uint64 varint (negative int32 takes 10 bytes, as protobuf says). */
  varint(value: bigint | number): this {
    let v = BigInt(value) & U64;
    while (v >= 0x80n) {
      this.current.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.current.push(Number(v));
    return this;
  }

  /** The same value with extra 0x80 continuation bytes (decoders must accept up to 10 bytes). */
  overlongVarint(value: number, extra: number): this {
    let v = value >>> 0;
    const out: number[] = [];
    do {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    } while (v > 0);
    for (let i = 0; i < extra; i++) out.push(0x80);
    out.push(0);
    for (const b of out) this.current.push(b);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((BigInt(field) << 3n) | BigInt(wire));
  }

  fixed32(bits: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, bits >>> 0, true);
    return this.raw(b);
  }

  fixed64(bits: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, bits), true);
    return this.raw(b);
  }

  float(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.raw(b);
  }

  double(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return this.raw(b);
  }

  /** A length-delimited payload (its true length). */
  ld(payload: Uint8Array): this {
    this.varint(payload.length);
    return this.raw(payload);
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export function utf8(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}
