import { clientText, VerdictError } from '@verdict/runtime';

/** How many problems one error lists (the count of the rest is given). */
const MAX_LISTED = 32;

/** One validation problem: the dotted field path and the rule it broke (with the limit). */
export interface ConfigProblem {
  readonly field: string;
  readonly rule: string;
}

export interface Bounds {
  readonly min?: number;
  readonly max?: number;
  readonly greaterThan?: number;
  readonly lessThan?: number;
  readonly integer?: boolean;
}

/**
 * Collects every problem of a config instead of stopping at the first, so one error names all
 * bad fields with their limits.
 */
export class FieldChecker {
  readonly problems: ConfigProblem[] = [];

  problem(field: string, rule: string): void {
    this.problems.push({ field, rule });
  }

  /** Checks a number against its bounds; returns it unchanged (so a default can be filled inline). */
  number(field: string, v: number, b: Bounds = {}): number {
    if (!Number.isFinite(v)) {
      this.problem(field, 'must be a finite number');
      return v;
    }
    if (b.integer && !Number.isSafeInteger(v)) this.problem(field, 'must be an integer');
    if (b.min !== undefined && v < b.min) this.problem(field, `must be >= ${b.min} (got ${v})`);
    if (b.max !== undefined && v > b.max) this.problem(field, `must be <= ${b.max} (got ${v})`);
    if (b.greaterThan !== undefined && !(v > b.greaterThan))
      this.problem(field, `must be > ${b.greaterThan} (got ${v})`);
    if (b.lessThan !== undefined && !(v < b.lessThan))
      this.problem(field, `must be < ${b.lessThan} (got ${v})`);
    return v;
  }

  /** An unsigned integer (proto uint32: JSON input can still be negative or fractional). */
  uint(field: string, v: number, max?: number): number {
    return this.number(field, v, { integer: true, min: 0, ...(max !== undefined ? { max } : {}) });
  }

  /**
   * Throws one INVALID_ARGUMENT listing every problem (field = the first bad field). At most
   * MAX_LISTED problems are spelled out: a JSON config can hold many bad keys, and the status
   * must stay small (a huge status stalls the connection it shares with other calls).
   */
  throwIfAny(what: string): void {
    if (this.problems.length === 0) return;
    const listed = this.problems.slice(0, MAX_LISTED);
    const more = this.problems.length - listed.length;
    const lines =
      listed.map((p) => `  ${p.field}: ${p.rule}`).join('\n') + (more > 0 ? `\n  … and ${more} more` : '');
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `invalid ${what} (${this.problems.length} problem${this.problems.length === 1 ? '' : 's'}):\n${lines}`,
      { field: listed[0]!.field, details: { problems: listed, ...(more > 0 ? { more } : {}) } },
    );
  }
}

export function join(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

/** What ts-proto generates for every message: enough to learn its JSON keys and their kinds. */
export interface MessageFns<T> {
  fromPartial(object: Partial<T>): T;
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
}

/** The message fields of one message type, and the message type of each (repeated or not). */
export interface JsonShape {
  readonly fns: MessageFns<unknown>;
  readonly messages?: Readonly<Record<string, JsonShape>>;
}

type Kind = 'string' | 'number' | 'boolean' | 'enum' | 'int64' | 'message';

const kindCache = new WeakMap<object, Map<string, { kind: Kind; repeated: boolean }>>();

/**
 * The JSON keys of a generated message and each one's kind, learned from ts-proto itself (its
 * default object lists every field; probing `fromJSON` tells an enum, which throws on an unknown
 * name, from a number), so the key list is never written out by hand beside the .proto.
 */
function kindsOf(shape: JsonShape): Map<string, { kind: Kind; repeated: boolean }> {
  const cached = kindCache.get(shape);
  if (cached !== undefined) return cached;
  const base = shape.fns.fromPartial({}) as Record<string, unknown>;
  const kinds = new Map<string, { kind: Kind; repeated: boolean }>();
  for (const [key, value] of Object.entries(base)) {
    const repeated = Array.isArray(value);
    if (shape.messages?.[key] !== undefined) {
      kinds.set(key, { kind: 'message', repeated });
      continue;
    }
    const probe = (x: unknown): unknown => {
      const v = (shape.fns.fromJSON({ [key]: repeated ? [x] : x }) as Record<string, unknown>)[key];
      return repeated ? (v as unknown[])[0] : v;
    };
    const v = probe(1);
    let kind: Kind =
      typeof v === 'bigint'
        ? 'int64'
        : typeof v === 'boolean'
          ? 'boolean'
          : typeof v === 'number'
            ? 'number'
            : 'string';
    // An enum reads an unknown name as UNRECOGNIZED (-1), a number field as NaN.
    if (kind === 'number' && probe('zz') === -1) kind = 'enum';
    kinds.set(key, { kind, repeated });
  }
  kindCache.set(shape, kinds);
  return kinds;
}

/** The names of an enum field's values (from the generated toJSON, 1 up to the first unknown). */
function enumNames(shape: JsonShape, key: string): string[] {
  const names: string[] = [];
  for (let n = 1; n < 64; n++) {
    const name = (shape.fns.toJSON(shape.fns.fromPartial({ [key]: n })) as Record<string, unknown>)[key];
    if (typeof name !== 'string' || name === 'UNRECOGNIZED') break;
    names.push(name);
  }
  return names;
}

function jsonTypeOk(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'enum':
      return typeof v === 'string' || typeof v === 'number';
    case 'int64':
      return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));
    case 'message':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
  }
}

const KIND_RULE: Record<Kind, string> = {
  string: 'must be a string',
  number: 'must be a number',
  boolean: 'must be true or false',
  enum: 'must be an enum name (string) or number',
  int64: 'must be an integer (number or decimal string)',
  message: 'must be an object',
};

/**
 * Checks parsed JSON against a message's proto3 JSON mapping before `fromJSON` (which would
 * silently drop unknown keys and coerce wrong types): unknown keys (lowerCamelCase or the proto
 * field name), JSON types, and enum names. Returns true when `fromJSON` is safe to call.
 */
export function checkJsonShape(c: FieldChecker, raw: unknown, shape: JsonShape, field: string): boolean {
  const before = c.problems.length;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    c.problem(field || 'config', 'must be an object');
    return false;
  }
  const kinds = kindsOf(shape);
  const snake = new Map([...kinds.keys()].map((k) => [k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`), k]));
  for (const [rawKey, value] of Object.entries(raw as Record<string, unknown>)) {
    const key = kinds.has(rawKey) ? rawKey : snake.get(rawKey);
    const path = join(field, clientText(rawKey));
    if (key === undefined) {
      c.problem(path, `unknown field (known: ${[...kinds.keys()].join(', ')})`);
      continue;
    }
    if (value === null || value === undefined) continue;
    const { kind, repeated } = kinds.get(key)!;
    const items = repeated ? value : [value];
    if (!Array.isArray(items)) {
      c.problem(path, 'must be an array');
      continue;
    }
    items.forEach((item, i) => {
      const itemPath = repeated ? `${path}[${i}]` : path;
      if (!jsonTypeOk(kind, item)) c.problem(itemPath, KIND_RULE[kind]);
      else if (kind === 'message') checkJsonShape(c, item, shape.messages![key]!, itemPath);
      else if (
        kind === 'enum' &&
        (shape.fns.fromJSON({ [key]: item }) as Record<string, unknown>)[key] === -1
      )
        c.problem(
          itemPath,
          `must be one of ${enumNames(shape, key).join(', ')} (got ${clientText(JSON.stringify(item))})`,
        );
    });
  }
  return c.problems.length === before;
}
