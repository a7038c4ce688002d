import { isSuiteName, SUITE_NAMES } from '@verdict/data';
import {
  assertGrpcClientTls,
  type ConfigOf,
  defineConfig,
  type EnvSource,
  env,
  type GrpcServerTlsPem,
  grpcClientTlsEnv,
  grpcServerTlsEnv,
  grpcServerTlsFromConfig,
  VerdictError,
} from '@verdict/runtime';

const schema = defineConfig({
  grpc: {
    host: env.string('EVALUATOR_HOST', { default: '0.0.0.0', description: 'gRPC bind address' }),
    port: env.int('EVALUATOR_PORT', {
      default: 50055,
      min: 0,
      max: 65535,
      description: 'gRPC port (0 = any)',
    }),
    /** EVALUATOR_TLS_CERT_FILE, EVALUATOR_TLS_KEY_FILE, EVALUATOR_TLS_CLIENT_CA_FILE, EVALUATOR_HEALTH_PORT. */
    ...grpcServerTlsEnv('EVALUATOR'),
  },
  policyTarget: env.string('EVALUATOR_POLICY_TARGET', {
    default: '127.0.0.1:50051',
    minLength: 1,
    description: 'policy-server host:port used when a RunSuite request names none',
  }),
  /** EVALUATOR_POLICY_TLS, …_CA_FILE, …_SERVER_NAME, …_CERT_FILE, …_KEY_FILE (every policy target). */
  policyTls: grpcClientTlsEnv('EVALUATOR_POLICY_TLS', 'the policy-server'),
  // RunSuite's policy_target may name only these (and EVALUATOR_POLICY_TARGET): a caller must not
  // be able to make the evaluator dial any host it likes (issue 17).
  allowedPolicyTargets: env.list('EVALUATOR_POLICY_TARGETS', 'string', {
    default: [],
    description: 'other policy-server host:port a RunSuite request may name in policy_target',
  }),
  reportDir: env.string('EVALUATOR_REPORT_DIR', {
    default: 'verdict-reports',
    minLength: 1,
    description: 'folder for runs/<id>.json|html, history.jsonl, report.html',
  }),
  batchSize: env.int('EVALUATOR_BATCH_SIZE', {
    default: 16,
    min: 1,
    max: 1024,
    description: 'prompts per Generate call',
  }),
  maxNewTokens: env.int('EVALUATOR_MAX_NEW_TOKENS', { default: 256, min: 1, max: 32_768 }),
  generateTimeoutMs: env.durationMs('EVALUATOR_GENERATE_TIMEOUT', {
    default: 600_000,
    min: 1,
    description: 'deadline of one Generate call (one batch)',
  }),
  once: env.bool('EVALUATOR_ONCE', {
    default: false,
    description: 'run the nightly suites, write reports, exit 0/1',
  }),
  nightly: {
    suites: env.list('EVALUATOR_SUITES', 'string', {
      default: ['gsm8k-test', 'svamp', 'gsm-plus'],
      minItems: 1,
      description: 'suites of the --once run',
    }),
    limit: env.int('EVALUATOR_LIMIT', {
      default: 0,
      min: 0,
      description: 'questions per suite in --once; 0 = all',
    }),
    samples: env.int('EVALUATOR_SAMPLES', {
      default: 0,
      min: 0,
      max: 64,
      description: 'maj@k samples in --once',
    }),
    temperature: env.number('EVALUATOR_TEMPERATURE', { default: 0.7, min: 0, max: 10 }),
    seed: env.int('EVALUATOR_SEED', { default: 0, min: 0 }),
  },
  otlpEndpoint: env.optional(env.url('OTEL_EXPORTER_OTLP_ENDPOINT', { protocols: ['http:', 'https:'] })),
  metricsPort: env.optional(env.int('EVALUATOR_METRICS_PORT', { min: 0, max: 65535 })),
  logLevel: env.enum('LOG_LEVEL', ['debug', 'info', 'warn', 'error'], { default: 'info' }),
});

export type EvaluatorConfig = ConfigOf<typeof schema.shape> & {
  /** TLS material of the gRPC port (read and checked at load); undefined = plaintext. */
  readonly tls: GrpcServerTlsPem | undefined;
};

/** Every variable with its rule and default (README table, --help). */
export const describeEvaluatorConfig = () => schema.describe();

/**
 * `--once` and `--suites a,b` (the CronJob's command line) as variables, so the command line and
 * the environment go through the same validation. Unknown arguments are config errors.
 */
export function argvToEnv(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--once') out['EVALUATOR_ONCE'] = 'true';
    else if (arg === '--suites' && argv[i + 1] !== undefined) out['EVALUATOR_SUITES'] = argv[++i]!;
    else if (arg.startsWith('--suites=')) out['EVALUATOR_SUITES'] = arg.slice('--suites='.length);
    else {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `unknown argument ${JSON.stringify(arg)} (use --once [--suites a,b])`,
        {
          field: 'argv',
        },
      );
    }
  }
  return out;
}

/** The only reader of the environment (passed in). Every problem is reported at once. */
export function loadEvaluatorConfig(source: EnvSource, argv: readonly string[] = []): EvaluatorConfig {
  const config = schema.load({ ...source, ...argvToEnv(argv) });
  const unknown = config.nightly.suites.filter((s) => !isSuiteName(s));
  if (unknown.length > 0) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `invalid configuration: EVALUATOR_SUITES has unknown suite(s) ${unknown.join(', ')}; known: ${SUITE_NAMES.join(', ')}`,
      { field: 'EVALUATOR_SUITES' },
    );
  }
  // TLS files are read and checked now: a bad Secret is a config error naming the variable.
  assertGrpcClientTls(config.policyTls, 'EVALUATOR_POLICY_TLS');
  return Object.freeze({ ...config, tls: grpcServerTlsFromConfig(config.grpc, 'EVALUATOR') });
}
