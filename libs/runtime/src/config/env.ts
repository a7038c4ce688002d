// The `env.*` helpers: each returns a ConfigVar<T> whose parser checks the type and bounds.
import { ConfigVar, type ConfigVarOptions, type ParseResult } from './config-var.js';
import { parseDurationMs } from './parse-duration.js';

export interface BoundsOptions {
  min?: number;
  max?: number;
}

export interface StringOptions extends ConfigVarOptions<string> {
  minLength?: number;
  maxLength?: number;
  /** Anchored by the caller if needed; the rule text shows the pattern. */
  pattern?: RegExp;
}

export interface UrlOptions extends ConfigVarOptions<string> {
  /** Allowed protocols with the colon, e.g. `['nats:', 'tls:']`. */
  protocols?: readonly string[];
}

export type ListItem = 'string' | 'int' | 'number' | 'url';

export interface ListOptions<T> extends ConfigVarOptions<readonly T[]> {
  separator?: string;
  minItems?: number;
  maxItems?: number;
}

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const fail = (rule: string): ParseResult<never> => ({ ok: false, rule });

function boundsRule(base: string, { min, max }: BoundsOptions, unit = ''): string {
  if (min !== undefined && max !== undefined) return `${base} in [${min}${unit}, ${max}${unit}]`;
  if (min !== undefined) return `${base} >= ${min}${unit}`;
  if (max !== undefined) return `${base} <= ${max}${unit}`;
  return base;
}

function inBounds(value: number, { min, max }: BoundsOptions): boolean {
  return (min === undefined || value >= min) && (max === undefined || value <= max);
}

function parseIntStrict(raw: string): number | undefined {
  if (!/^[+-]?\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : undefined;
}

function parseNumberStrict(raw: string): number | undefined {
  // Number('') and Number('0x10') are accepted by JS; configs want decimal notation only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

function stringVar(variable: string, options: StringOptions = {}): ConfigVar<string> {
  const parts = ['string'];
  if (options.minLength !== undefined) parts.push(`length >= ${options.minLength}`);
  if (options.maxLength !== undefined) parts.push(`length <= ${options.maxLength}`);
  if (options.pattern !== undefined) parts.push(`matching ${options.pattern}`);
  const rule = parts.join(', ');
  return new ConfigVar(
    variable,
    rule,
    (raw) => {
      if (options.minLength !== undefined && raw.length < options.minLength) return fail(rule);
      if (options.maxLength !== undefined && raw.length > options.maxLength) return fail(rule);
      if (options.pattern !== undefined && !options.pattern.test(raw)) return fail(rule);
      return ok(raw);
    },
    options,
  );
}

function intVar(variable: string, options: ConfigVarOptions<number> & BoundsOptions = {}): ConfigVar<number> {
  const rule = boundsRule('integer', options);
  return new ConfigVar(
    variable,
    rule,
    (raw) => {
      const value = parseIntStrict(raw);
      return value !== undefined && inBounds(value, options) ? ok(value) : fail(rule);
    },
    options,
  );
}

function numberVar(
  variable: string,
  options: ConfigVarOptions<number> & BoundsOptions = {},
): ConfigVar<number> {
  const rule = boundsRule('number', options);
  return new ConfigVar(
    variable,
    rule,
    (raw) => {
      const value = parseNumberStrict(raw);
      return value !== undefined && inBounds(value, options) ? ok(value) : fail(rule);
    },
    options,
  );
}

function boolVar(variable: string, options: ConfigVarOptions<boolean> = {}): ConfigVar<boolean> {
  const rule = 'boolean (true/false, 1/0, yes/no, on/off)';
  return new ConfigVar(
    variable,
    rule,
    (raw) => {
      const word = raw.toLowerCase();
      if (TRUE_WORDS.has(word)) return ok(true);
      if (FALSE_WORDS.has(word)) return ok(false);
      return fail(rule);
    },
    options,
  );
}

function enumVar<const T extends string>(
  variable: string,
  values: readonly T[],
  options: ConfigVarOptions<T> = {},
): ConfigVar<T> {
  const rule = `one of ${values.join(', ')}`;
  return new ConfigVar(
    variable,
    rule,
    (raw) => ((values as readonly string[]).includes(raw) ? ok(raw as T) : fail(rule)),
    options,
  );
}

/**
 * A duration such as `250ms`, `30s`, `1m30s`, `2h`, or a bare integer meaning milliseconds;
 * the value is in milliseconds. `default` is in milliseconds too.
 */
function durationMsVar(
  variable: string,
  options: ConfigVarOptions<number> & BoundsOptions = {},
): ConfigVar<number> {
  const rule = boundsRule('duration (e.g. 250ms, 30s, 1m30s, 2h)', options, 'ms');
  return new ConfigVar(
    variable,
    rule,
    (raw) => {
      const value = parseDurationMs(raw);
      return value !== undefined && inBounds(value, options) ? ok(value) : fail(rule);
    },
    options,
  );
}

function urlVar(variable: string, options: UrlOptions = {}): ConfigVar<string> {
  const rule =
    options.protocols === undefined ? 'absolute URL' : `URL with protocol ${options.protocols.join(' or ')}`;
  return new ConfigVar(
    variable,
    rule,
    (raw) => {
      if (!URL.canParse(raw)) return fail(rule);
      const { protocol } = new URL(raw);
      if (options.protocols !== undefined && !options.protocols.includes(protocol)) return fail(rule);
      return ok(raw);
    },
    options,
  );
}

const ITEM_PARSERS: Readonly<Record<ListItem, (raw: string) => unknown>> = {
  string: (raw) => raw,
  int: parseIntStrict,
  number: parseNumberStrict,
  url: (raw) => (URL.canParse(raw) ? raw : undefined),
};

type ItemType<I extends ListItem> = I extends 'int' | 'number' ? number : string;

/** A separated list (default `,`); items are trimmed and empty items dropped. */
function listVar<I extends ListItem = 'string'>(
  variable: string,
  item: I = 'string' as I,
  options: ListOptions<ItemType<I>> = {},
): ConfigVar<readonly ItemType<I>[]> {
  const separator = options.separator ?? ',';
  const parts = [`'${separator}'-separated list of ${item}`];
  if (options.minItems !== undefined) parts.push(`at least ${options.minItems} items`);
  if (options.maxItems !== undefined) parts.push(`at most ${options.maxItems} items`);
  const rule = parts.join(', ');
  const parseItem = ITEM_PARSERS[item];
  return new ConfigVar(
    variable,
    rule,
    (raw) => {
      const items = raw
        .split(separator)
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const values: ItemType<I>[] = [];
      for (const [index, text] of items.entries()) {
        const value = parseItem(text);
        if (value === undefined) return fail(`${rule} (item ${index} '${text}' is not a ${item})`);
        values.push(value as ItemType<I>);
      }
      if (options.minItems !== undefined && values.length < options.minItems) return fail(rule);
      if (options.maxItems !== undefined && values.length > options.maxItems) return fail(rule);
      return ok(values);
    },
    options,
  );
}

/** Make a variable optional: unset or empty gives `undefined` instead of a problem. */
function optionalVar<T>(inner: ConfigVar<T>): ConfigVar<T | undefined> {
  return new ConfigVar<T | undefined>(inner.variable, `${inner.rule}, optional`, (raw) => inner.read(raw), {
    secret: inner.secret,
    ...(inner.options.description !== undefined ? { description: inner.options.description } : {}),
    optional: true,
  });
}

export const env = {
  string: stringVar,
  int: intVar,
  number: numberVar,
  bool: boolVar,
  enum: enumVar,
  durationMs: durationMsVar,
  url: urlVar,
  list: listVar,
  optional: optionalVar,
} as const;
