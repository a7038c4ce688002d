import { VerdictError } from '@verdict/runtime';

/** One validation problem: the dotted field path and the rule it broke (with the limit). */
export interface ConfigProblem {
  readonly field: string;
  readonly rule: string;
}

type Json = Record<string, unknown>;

/**
 * Reads a parsed JSON object field by field, collecting every problem instead of stopping at the
 * first, so one error names all bad fields with their limits.
 */
export class FieldChecker {
  readonly problems: ConfigProblem[] = [];

  problem(field: string, rule: string): void {
    this.problems.push({ field, rule });
  }

  object(value: unknown, field: string): Json {
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.problem(field, 'must be an object');
      return {};
    }
    return value as Json;
  }

  /** Flags keys that the schema does not know (typos must not silently fall back to defaults). */
  known(obj: Json, field: string, keys: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!keys.includes(k)) this.problem(join(field, k), `unknown field (known: ${keys.join(', ')})`);
    }
  }

  string(
    obj: Json,
    key: string,
    field: string,
    opts: { default?: string; minLength?: number; oneOf?: readonly string[] } = {},
  ): string {
    const path = join(field, key);
    const v = obj[key];
    if (v === undefined) {
      if (opts.default !== undefined) return opts.default;
      this.problem(path, 'is required (string)');
      return '';
    }
    if (typeof v !== 'string') {
      this.problem(path, 'must be a string');
      return opts.default ?? '';
    }
    if (opts.minLength !== undefined && v.length < opts.minLength) {
      this.problem(path, `must have at least ${opts.minLength} characters`);
    }
    if (opts.oneOf !== undefined && !opts.oneOf.includes(v)) {
      this.problem(path, `must be one of ${opts.oneOf.join(', ')}`);
    }
    return v;
  }

  number(
    obj: Json,
    key: string,
    field: string,
    opts: { default?: number; min?: number; max?: number; greaterThan?: number; integer?: boolean } = {},
  ): number {
    const path = join(field, key);
    const v = obj[key];
    if (v === undefined) {
      if (opts.default !== undefined) return opts.default;
      this.problem(path, 'is required (number)');
      return 0;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.problem(path, 'must be a finite number');
      return opts.default ?? 0;
    }
    if (opts.integer && !Number.isSafeInteger(v)) this.problem(path, 'must be an integer');
    if (opts.min !== undefined && v < opts.min) this.problem(path, `must be >= ${opts.min} (got ${v})`);
    if (opts.max !== undefined && v > opts.max) this.problem(path, `must be <= ${opts.max} (got ${v})`);
    if (opts.greaterThan !== undefined && !(v > opts.greaterThan)) {
      this.problem(path, `must be > ${opts.greaterThan} (got ${v})`);
    }
    return v;
  }

  int(
    obj: Json,
    key: string,
    field: string,
    opts: { default?: number; min?: number; max?: number } = {},
  ): number {
    return this.number(obj, key, field, { ...opts, integer: true });
  }

  bool(obj: Json, key: string, field: string, def: boolean): boolean {
    const v = obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      this.problem(join(field, key), 'must be true or false');
      return def;
    }
    return v;
  }

  array(
    obj: Json,
    key: string,
    field: string,
    opts: { minItems?: number; default?: unknown[] } = {},
  ): unknown[] {
    const path = join(field, key);
    const v = obj[key];
    if (v === undefined) {
      if (opts.default !== undefined) return opts.default;
      this.problem(path, 'is required (array)');
      return [];
    }
    if (!Array.isArray(v)) {
      this.problem(path, 'must be an array');
      return [];
    }
    if (opts.minItems !== undefined && v.length < opts.minItems) {
      this.problem(path, `must have at least ${opts.minItems} item(s)`);
    }
    return v;
  }

  /** Throws one INVALID_ARGUMENT listing every problem (field = the first bad field). */
  throwIfAny(what: string): void {
    if (this.problems.length === 0) return;
    const lines = this.problems.map((p) => `  ${p.field}: ${p.rule}`).join('\n');
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `invalid ${what} (${this.problems.length} problem${this.problems.length === 1 ? '' : 's'}):\n${lines}`,
      { field: this.problems[0]!.field, details: { problems: this.problems } },
    );
  }
}

export function join(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}
