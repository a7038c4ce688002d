// One environment variable: its name, how to parse it, its default. Built by the `env.*`
// helpers in ./env.ts and collected by defineConfig() in ./define-config.ts.

export type ParseResult<T> = { ok: true; value: T } | { ok: false; rule: string; missing?: boolean };

export interface ConfigVarOptions<T> {
  /** Used when the variable is unset or empty. Not validated: it is the author's value. */
  default?: T;
  /** Redact the value in error messages (tokens, passwords). */
  secret?: boolean;
  /** One line for generated docs. */
  description?: string;
}

const CONFIG_VAR = Symbol.for('verdict.ConfigVar');

export class ConfigVar<T> {
  readonly [CONFIG_VAR] = true;

  constructor(
    /** The environment variable name, e.g. `JUDGE_MAX_BATCH_SIZE`. */
    readonly variable: string,
    /** The rule in words for docs and errors, e.g. `integer in [1, 512]`. */
    readonly rule: string,
    private readonly parseRaw: (raw: string) => ParseResult<T>,
    readonly options: Readonly<ConfigVarOptions<T>> & { optional?: boolean } = {},
  ) {}

  /** Empty strings count as unset: `FOO=` in a manifest must not mean "the empty value". */
  read(raw: string | undefined): ParseResult<T> {
    if (raw === undefined || raw.trim() === '') {
      if (this.options.default !== undefined) return { ok: true, value: this.options.default };
      if (this.options.optional) return { ok: true, value: undefined as T };
      return { ok: false, rule: this.rule, missing: true };
    }
    return this.parseRaw(raw.trim());
  }

  get secret(): boolean {
    return this.options.secret === true;
  }
}

export function isConfigVar(value: unknown): value is ConfigVar<unknown> {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CONFIG_VAR] === true
  );
}
