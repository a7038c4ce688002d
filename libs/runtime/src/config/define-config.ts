// "Options in, validated config out": a service's config.ts declares its variables once with
// defineConfig() and loads them from the environment record it is handed (config.ts is the only
// reader of process.env). Every problem is collected and reported in ONE VerdictError.
import { VerdictError } from '../errors/verdict-error.js';
import { type ConfigVar, isConfigVar } from './config-var.js';

export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Variables, possibly grouped in nested plain objects (`{ grpc: { port: env.int(...) } }`). */
export interface ConfigShape {
  readonly [key: string]: ConfigVar<unknown> | ConfigShape;
}

export type ConfigOf<S extends ConfigShape> = {
  readonly [K in keyof S]: S[K] extends ConfigVar<infer T>
    ? T
    : S[K] extends ConfigShape
      ? ConfigOf<S[K]>
      : never;
};

export interface ConfigProblem {
  variable: string;
  /** The raw value as given (`undefined` when unset; `<redacted>` for secrets). */
  value: string | undefined;
  rule: string;
  /** True when the variable is required but unset or empty. */
  missing: boolean;
}

export interface ConfigVariableDoc {
  variable: string;
  /** Dotted path in the loaded config, e.g. `grpc.port`. */
  path: string;
  rule: string;
  default: unknown;
  secret: boolean;
  description: string | undefined;
}

export interface ConfigSchema<S extends ConfigShape> {
  readonly shape: S;
  /** Parse and validate; returns a deeply frozen config or throws one INVALID_ARGUMENT. */
  load(source: EnvSource): ConfigOf<S>;
  /** Every variable with its rule and default, for README tables and `--help`. */
  describe(): ConfigVariableDoc[];
}

export function defineConfig<const S extends ConfigShape>(shape: S): ConfigSchema<S> {
  assertUniqueVariables(shape);
  return {
    shape,
    load: (source) => loadConfig(shape, source),
    describe: () =>
      collectVars(shape).map(([path, v]) => ({
        variable: v.variable,
        path,
        rule: v.rule,
        default: v.options.default,
        secret: v.secret,
        description: v.options.description,
      })),
  };
}

export function loadConfig<const S extends ConfigShape>(shape: S, source: EnvSource): ConfigOf<S> {
  const problems: ConfigProblem[] = [];
  const config = build(shape, source, problems);
  if (problems.length > 0) throw configError(problems);
  return deepFreeze(config) as ConfigOf<S>;
}

function build(shape: ConfigShape, source: EnvSource, problems: ConfigProblem[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(shape)) {
    if (isConfigVar(entry)) {
      const raw = source[entry.variable];
      const result = entry.read(raw);
      if (result.ok) out[key] = result.value;
      else {
        const value = raw === undefined || !entry.secret ? raw : '<redacted>';
        problems.push({
          variable: entry.variable,
          value,
          rule: result.rule,
          missing: result.missing === true,
        });
      }
    } else {
      out[key] = build(entry, source, problems);
    }
  }
  return out;
}

function configError(problems: ConfigProblem[]): VerdictError {
  const lines = problems.map((p) =>
    p.missing
      ? `  ${p.variable} is not set: required, must be ${p.rule}`
      : `  ${p.variable}=${JSON.stringify(p.value)}: must be ${p.rule}`,
  );
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return new VerdictError(
    'INVALID_ARGUMENT',
    `invalid configuration (${problems.length} ${noun}):\n${lines.join('\n')}`,
    { field: problems.map((p) => p.variable).join(','), details: { problems } },
  );
}

function collectVars(shape: ConfigShape, prefix = ''): Array<[string, ConfigVar<unknown>]> {
  return Object.entries(shape).flatMap(
    ([key, entry]): Array<[string, ConfigVar<unknown>]> =>
      isConfigVar(entry) ? [[prefix + key, entry]] : collectVars(entry, `${prefix}${key}.`),
  );
}

function assertUniqueVariables(shape: ConfigShape): void {
  const seen = new Map<string, string>();
  for (const [path, v] of collectVars(shape)) {
    const previous = seen.get(v.variable);
    if (previous !== undefined) {
      // A programming error in the service, not a bad environment.
      throw new VerdictError(
        'INTERNAL',
        `config variable ${v.variable} is declared twice (${previous}, ${path})`,
      );
    }
    seen.set(v.variable, path);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
