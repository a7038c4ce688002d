import { UsageError } from './usage-error.js';

/** One flag of a command. Values are validated here so commands receive typed, in-range input. */
export type FlagSpec =
  | { type: 'string'; description: string; required?: boolean; default?: string; choices?: readonly string[] }
  | {
      type: 'int' | 'number';
      description: string;
      required?: boolean;
      default?: number;
      /** Inclusive lower bound. */
      min?: number;
      /** Exclusive lower bound. */
      greaterThan?: number;
      /** Inclusive upper bound. */
      max?: number;
    }
  | { type: 'boolean'; description: string };

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<S extends FlagSpec> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'int' | 'number' }
    ? S extends { required: true } | { default: number }
      ? number
      : number | undefined
    : S extends { required: true } | { default: string }
      ? string
      : string | undefined;

/** Parsed flags keyed by camelCase name (`--max-new-tokens` → `maxNewTokens`). */
export type ParsedFlags<S extends FlagSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Flags every command accepts. */
export const GLOBAL_FLAGS = {
  json: {
    type: 'boolean',
    description: 'print exactly one JSON document on stdout (progress goes to stderr)',
  },
  help: { type: 'boolean', description: 'show this help' },
} as const satisfies FlagSpecs;

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function bound(spec: FlagSpec & { type: 'int' | 'number' }): string {
  const parts: string[] = [];
  if (spec.min !== undefined) parts.push(`>= ${spec.min}`);
  if (spec.greaterThan !== undefined) parts.push(`> ${spec.greaterThan}`);
  if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
  return parts.join(' and ');
}

function parseNumber(flag: string, spec: FlagSpec & { type: 'int' | 'number' }, raw: string): number {
  const kind = spec.type === 'int' ? 'an integer' : 'a finite number';
  const limit = bound(spec);
  const what = `--${flag} must be ${kind}${limit ? ` ${limit}` : ''} (got ${JSON.stringify(raw)})`;
  const v = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(v) || (spec.type === 'int' && !Number.isSafeInteger(v))) throw new UsageError(what);
  if (spec.min !== undefined && v < spec.min) throw new UsageError(what);
  if (spec.greaterThan !== undefined && v <= spec.greaterThan) throw new UsageError(what);
  if (spec.max !== undefined && v > spec.max) throw new UsageError(what);
  return v;
}

/** Parses `--flag value`, `--flag=value` and boolean `--flag`; unknown or repeated flags are usage errors. */
export function parseFlags<S extends FlagSpecs>(specs: S, argv: readonly string[]): ParsedFlags<S> {
  const byKebab = new Map(Object.keys(specs).map((k) => [kebab(k), k]));
  const raw = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--'))
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (flags start with --)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const key = byKebab.get(name);
    if (key === undefined) throw new UsageError(`unknown flag --${name}`);
    if (raw.has(key)) throw new UsageError(`--${name} given more than once`);
    const spec = specs[key]!;
    if (spec.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      raw.set(key, true);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    raw.set(key, value);
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const flag = kebab(key);
    const given = raw.get(key);
    if (spec.type === 'boolean') {
      out[key] = given === true;
      continue;
    }
    if (given === undefined) {
      if (spec.required) throw new UsageError(`--${flag} is required`);
      out[key] = spec.default;
      continue;
    }
    const text = given as string;
    if (spec.type === 'string') {
      if (spec.choices && !spec.choices.includes(text)) {
        throw new UsageError(
          `--${flag} must be one of ${spec.choices.join(', ')} (got ${JSON.stringify(text)})`,
        );
      }
      out[key] = text;
    } else out[key] = parseNumber(flag, spec, text);
  }
  return out as ParsedFlags<S>;
}
