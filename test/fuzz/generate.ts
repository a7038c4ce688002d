// Request generation from the protobuf descriptors. The kinds of case:
// - plausible: valid by schema, small values, field-name hints (suite names, health service names)
//   so handlers get past their first checks and do real work;
// - edge: valid by schema with edge values (empty, huge, negative, NaN/±Inf, unknown enum numbers,
//   long repeated fields and strings, strings that are not UTF-8, unknown and deeply nested fields);
// - based: a valid request with one field at any depth overridden by an edge value;
// - mutated (mutate.ts): the bytes of one of the above, then bit flips, splices, truncation,
//   lying length prefixes, overlong varints or plain random bytes.
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { BAIT, FLOAT_EDGES, INT_EDGES, INVALID_UTF8 } from './edge-values.js';
import type { Rng } from './rng.js';
import { utf8, WIRE, WireWriter } from './wire.js';

export type CaseKind = 'plausible' | 'based' | 'edge' | 'mutated';

export interface GenOptions {
  /** Field-name → plausible string values (e.g. `suite` → the suite names). */
  readonly hints: Readonly<Record<string, readonly string[]>>;
}

interface Ctx {
  readonly rng: Rng;
  readonly edge: boolean;
  readonly hints: GenOptions['hints'];
  /** Bytes still allowed in this message (a huge case may use up to 5 MB). */
  budget: number;
  /** Human-readable notes about what this case holds, for the failure report. */
  readonly notes: string[];
}

/** At most a dozen notes per case: a 20,000-entry list must not write 20,000 of them. */
function note(ctx: Ctx, text: string): void {
  if (ctx.notes.length < 12) ctx.notes.push(text);
}

function plausibleWord(rng: Rng): string {
  const n = rng.range(1, 12);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.range(0x61, 0x7a));
  return s;
}

function stringBytes(ctx: Ctx, field: DescField): Uint8Array {
  const { rng } = ctx;
  const hints = ctx.hints[field.name];
  if (!ctx.edge) {
    if (hints !== undefined && rng.chance(0.7)) return utf8(rng.pick(hints));
    if (rng.chance(0.15)) return new Uint8Array(0);
    return utf8(Array.from({ length: rng.range(1, 6) }, () => plausibleWord(rng)).join(' '));
  }
  const pick = rng.int(10);
  if (pick === 0) return new Uint8Array(0);
  if (pick === 1 && hints !== undefined) return utf8(rng.pick(hints));
  if (pick === 2) {
    // Invalid UTF-8 spliced into text (the wire allows it; proto3 says it must not happen).
    const parts: number[] = [...utf8(plausibleWord(rng))];
    parts.push(...rng.pick(INVALID_UTF8));
    parts.push(...utf8(plausibleWord(rng)));
    note(ctx, `${field.name}: invalid UTF-8`);
    return Uint8Array.from(parts);
  }
  if (pick === 3 || pick === 4) {
    const n = longSize(ctx);
    note(ctx, `${field.name}: bait ${n}`);
    return utf8(rng.pick(BAIT)(n)).subarray(0, Math.max(1, ctx.budget));
  }
  if (pick === 5) {
    // A long string of one repeated character (a cheap way to reach the size limits).
    const n = longSize(ctx);
    note(ctx, `${field.name}: ${n} chars`);
    return Buffer.alloc(n, rng.pick(['a', ' ', '9', '.', 'é']));
  }
  if (pick === 6) return utf8(rng.pick(BAIT)(rng.range(1, 8)));
  if (pick === 7)
    return utf8(
      String.fromCodePoint(
        ...Array.from({ length: rng.range(1, 16) }, () => rng.range(0x80, 0x10ffff)).filter(
          (c) => c < 0xd800 || c > 0xdfff,
        ),
      ),
    );
  return utf8(plausibleWord(rng));
}

/** Lengths for long strings and lists: mostly up to 64 Ki, sometimes past the 4 MiB message limit. */
function longSize(ctx: Ctx): number {
  const { rng } = ctx;
  const max = rng.chance(0.02) ? 5 * 1024 * 1024 : 65_536;
  const n = rng.size(max);
  const bounded = Math.min(n, Math.max(0, ctx.budget));
  ctx.budget -= bounded;
  return bounded;
}

function intValue(ctx: Ctx, signed: boolean): bigint {
  const { rng } = ctx;
  if (!ctx.edge) return BigInt(rng.chance(0.6) ? rng.int(4) : rng.chance(0.75) ? rng.int(32) : rng.int(1000));
  if (rng.chance(0.7)) return rng.pick(INT_EDGES);
  const v = BigInt(rng.u32()) * (rng.chance(0.5) ? BigInt(rng.u32()) : 1n);
  return signed && rng.chance(0.5) ? -v : v;
}

function floatValue(ctx: Ctx): number {
  const { rng } = ctx;
  if (!ctx.edge) return rng.chance(0.3) ? rng.int(4) : Math.round(rng.next() * 1000) / 1000;
  return rng.chance(0.7) ? rng.pick(FLOAT_EDGES) : (rng.next() - 0.5) * 10 ** rng.range(-30, 30);
}

function writeScalar(ctx: Ctx, w: WireWriter, fieldNo: number, field: DescField, type: ScalarType): void {
  const { rng } = ctx;
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.BYTES: {
      const data =
        type === ScalarType.STRING
          ? stringBytes(ctx, field)
          : rng.bytes(ctx.edge ? longSize(ctx) : rng.int(16));
      w.tag(fieldNo, WIRE.ld).ld(data);
      return;
    }
    case ScalarType.DOUBLE:
      w.tag(fieldNo, WIRE.fixed64).double(floatValue(ctx));
      return;
    case ScalarType.FLOAT:
      w.tag(fieldNo, WIRE.fixed32).float(floatValue(ctx));
      return;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      w.tag(fieldNo, WIRE.fixed32).fixed32(Number(BigInt.asUintN(32, intValue(ctx, true))));
      return;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      w.tag(fieldNo, WIRE.fixed64).fixed64(intValue(ctx, true));
      return;
    case ScalarType.SINT32:
    case ScalarType.SINT64: {
      const v = intValue(ctx, true);
      w.tag(fieldNo, WIRE.varint).varint(v >= 0n ? v << 1n : (-v << 1n) - 1n);
      return;
    }
    case ScalarType.BOOL:
      w.tag(fieldNo, WIRE.varint).varint(
        ctx.edge && rng.chance(0.3)
          ? rng.pick([2n, 2n ** 64n - 1n])
          : BigInt(rng.chance(ctx.edge ? 0.5 : 0.2)),
      );
      return;
    default:
      w.tag(fieldNo, WIRE.varint);
      if (ctx.edge && rng.chance(0.05)) w.overlongVarint(rng.int(4), rng.range(1, 5));
      else w.varint(intValue(ctx, true));
  }
}

function writeEnum(ctx: Ctx, w: WireWriter, fieldNo: number, field: DescField): void {
  const { rng } = ctx;
  const known = field.enum?.values.map((v) => v.number) ?? [0];
  const value =
    ctx.edge && rng.chance(0.5) ? rng.pick([-1, 99, 2 ** 31 - 1, -(2 ** 31), known.length]) : rng.pick(known);
  if (!known.includes(value)) note(ctx, `${field.name}: enum ${value}`);
  w.tag(fieldNo, WIRE.varint).varint(value);
}

function listLength(ctx: Ctx, field: DescField): number {
  const { rng } = ctx;
  if (!ctx.edge) return rng.chance(0.1) ? 0 : rng.range(1, 3);
  if (rng.chance(0.15)) {
    const n = Math.min(rng.size(rng.chance(0.1) ? 200_000 : 20_000), Math.max(0, Math.floor(ctx.budget / 4)));
    note(ctx, `${field.name}: ${n} entries`);
    return n;
  }
  return rng.int(6);
}

function writeField(ctx: Ctx, w: WireWriter, field: DescField, depth: number): void {
  const no = field.number;
  switch (field.fieldKind) {
    case 'scalar':
      writeScalar(ctx, w, no, field, field.scalar);
      return;
    case 'enum':
      writeEnum(ctx, w, no, field);
      return;
    case 'message':
      w.tag(no, WIRE.ld).ld(message(ctx, field.message, depth + 1));
      return;
    case 'list': {
      const n = listLength(ctx, field);
      if (field.listKind === 'message') {
        // One message, repeated: generating n distinct ones would cost n × the nested work.
        const one = message(ctx, field.message, depth + 1);
        const distinct = Math.min(n, 8);
        for (let i = 0; i < n; i++) {
          const m = i < distinct ? message(ctx, field.message, depth + 1) : one;
          w.tag(no, WIRE.ld).ld(m);
          ctx.budget -= m.length + 2;
          if (ctx.budget <= 0) break;
        }
        return;
      }
      if (
        field.listKind === 'scalar' &&
        (field.scalar === ScalarType.STRING || field.scalar === ScalarType.BYTES)
      ) {
        for (let i = 0; i < n && ctx.budget > 0; i++) {
          writeScalar(ctx, w, no, field, field.scalar);
          ctx.budget -= 2;
        }
        return;
      }
      // Numbers and enums: packed (proto3's default) or, sometimes, one tag each.
      if (ctx.edge && ctx.rng.chance(0.3)) {
        for (let i = 0; i < n; i++) {
          if (field.listKind === 'enum') writeEnum(ctx, w, no, field);
          else writeScalar(ctx, w, no, field, field.scalar);
        }
        return;
      }
      const body = new WireWriter();
      for (let i = 0; i < n; i++) {
        if (field.listKind === 'enum') body.varint(ctx.rng.pick(field.enum.values.map((v) => v.number)));
        else packedScalar(ctx, body, field.scalar);
      }
      w.tag(no, WIRE.ld).ld(body.finish());
      return;
    }
    case 'map': {
      const n = listLength(ctx, field);
      for (let i = 0; i < n && ctx.budget > 0; i++) {
        const entry = new WireWriter();
        const keyField = { ...field, name: `${field.name}.key` } as DescField;
        writeScalar(ctx, entry, 1, keyField, field.mapKey);
        if (field.mapKind === 'message') entry.tag(2, WIRE.ld).ld(message(ctx, field.message, depth + 1));
        else if (field.mapKind === 'enum') writeEnum(ctx, entry, 2, field);
        else writeScalar(ctx, entry, 2, field, field.scalar);
        const bytes = entry.finish();
        ctx.budget -= bytes.length + 2;
        w.tag(no, WIRE.ld).ld(bytes);
      }
      return;
    }
  }
}

function packedScalar(ctx: Ctx, w: WireWriter, type: ScalarType): void {
  switch (type) {
    case ScalarType.DOUBLE:
      w.double(floatValue(ctx));
      return;
    case ScalarType.FLOAT:
      w.float(floatValue(ctx));
      return;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      w.fixed32(Number(BigInt.asUintN(32, intValue(ctx, true))));
      return;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      w.fixed64(intValue(ctx, true));
      return;
    default:
      w.varint(intValue(ctx, true));
  }
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * `depth` one-field messages, each the only field of the one around it, around "x". Written in one
 * pass (lengths first, innermost last): building it level by level copies O(depth²) bytes.
 */
export function nestedBytes(depth: number): Uint8Array {
  const lengths = [1];
  for (let i = 0; i < depth; i++) {
    const inner = lengths[i]!;
    lengths.push(1 + varintSize(inner) + inner);
  }
  const out = new Uint8Array(lengths[depth]!);
  let at = 0;
  for (let level = depth; level > 0; level--) {
    out[at++] = 0x0a; // field 1, length-delimited
    let n = lengths[level - 1]!;
    while (n >= 0x80) {
      out[at++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    out[at++] = n;
  }
  out[at] = 0x78; // "x"
  return out;
}

/** Unknown fields: a number the schema does not use, any wire type, sometimes nested deep. */
function unknownField(ctx: Ctx, w: WireWriter): void {
  const { rng } = ctx;
  const no = rng.pick([1000, 536_870_911, 19_000, 77]);
  switch (rng.int(4)) {
    case 0:
      w.tag(no, WIRE.varint).varint(rng.u32());
      return;
    case 1: {
      // A length-delimited field nested `depth` levels deep (each level a one-field message).
      const depth = rng.size(rng.chance(0.2) ? 100_000 : 100);
      note(ctx, `unknown field nested ${depth} deep`);
      w.tag(no, WIRE.ld).ld(nestedBytes(depth));
      return;
    }
    case 2: {
      // Groups (wire types 3/4), nested: decoders skip them by walking to the matching end tag.
      const depth = rng.size(rng.chance(0.2) ? 50_000 : 100);
      note(ctx, `unknown group nested ${depth} deep`);
      for (let i = 0; i < depth; i++) w.tag(no, WIRE.startGroup);
      for (let i = 0; i < depth; i++) w.tag(no, WIRE.endGroup);
      return;
    }
    default:
      w.tag(no, WIRE.fixed32).fixed32(rng.u32());
  }
}

/** One message of type `desc` on the wire. */
function message(ctx: Ctx, desc: DescMessage, depth: number): Uint8Array {
  const { rng } = ctx;
  const w = new WireWriter();
  if (depth > 12) return w.finish();
  const oneofChosen = new Map<string, string>();
  for (const oneof of desc.oneofs) {
    if (oneof.fields.length > 0) oneofChosen.set(oneof.name, rng.pick(oneof.fields).name);
  }
  const order = [...desc.fields];
  if (ctx.edge && rng.chance(0.2)) order.reverse();
  for (const field of order) {
    if (ctx.budget <= 0) break;
    const include = rng.chance(ctx.edge ? 0.6 : 0.5);
    if (!include) continue;
    // A oneof gets one member, except in edge cases (several: the last on the wire wins).
    if (
      field.oneof !== undefined &&
      oneofChosen.get(field.oneof.name) !== field.name &&
      !(ctx.edge && rng.chance(0.3))
    )
      continue;
    writeField(ctx, w, field, depth);
    // Singular fields sent twice (the last value wins; messages merge).
    if (ctx.edge && field.fieldKind !== 'list' && field.fieldKind !== 'map' && rng.chance(0.05))
      writeField(ctx, w, field, depth);
  }
  if (ctx.edge && rng.chance(0.1)) unknownField(ctx, w);
  return w.finish();
}

/** A request message: plausible or edge values, valid by schema. */
export function generateMessage(
  rng: Rng,
  desc: DescMessage,
  kind: 'plausible' | 'edge',
  options: GenOptions,
  notes: string[],
): Uint8Array {
  const ctx: Ctx = {
    rng,
    edge: kind === 'edge',
    hints: options.hints,
    budget: kind === 'edge' ? 6 * 1024 * 1024 : 16 * 1024,
    notes,
  };
  return message(ctx, desc, 0);
}

/**
 * A valid request with one field (at any depth) overridden by an edge value: the override is
 * appended, and protobuf's merge rules (the last scalar wins, messages merge, lists append) make
 * it take effect. Reaches checks that sit behind the ones a random request fails first.
 */
export function overrideOneField(
  rng: Rng,
  base: Uint8Array,
  desc: DescMessage,
  options: GenOptions,
  notes: string[],
): Uint8Array {
  const ctx: Ctx = { rng, edge: true, hints: options.hints, budget: 6 * 1024 * 1024, notes };
  const path: string[] = [];
  const override = (d: DescMessage, depth: number): Uint8Array => {
    const w = new WireWriter();
    const field = d.fields.length > 0 ? rng.pick(d.fields) : undefined;
    if (field === undefined) return w.finish();
    path.push(field.name);
    if (field.fieldKind === 'message' && depth < 6 && rng.chance(0.7)) {
      w.tag(field.number, WIRE.ld).ld(override(field.message, depth + 1));
    } else writeField(ctx, w, field, depth);
    return w.finish();
  };
  const tail = override(desc, 0);
  notes.push(`valid request, then ${path.join('.')} overridden`);
  return Buffer.concat([base, tail]);
}
