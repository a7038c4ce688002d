import {
  assertGrpcClientTls,
  type ConfigOf,
  defineConfig,
  env,
  type GrpcServerTlsPem,
  grpcClientTlsEnv,
  grpcServerTlsEnv,
  grpcServerTlsFromConfig,
  natsConnectionEnv,
  natsConnectOptionsFromConfig,
} from '@verdict/runtime';
import { loadRunConfigFile } from './run-config/run-config.js';

// Literal lists (not imported from @verdict/graph, which would load ONNX Runtime with the config).
const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;
const EXECUTION_PROVIDER_FALLBACKS = ['cpu', 'never'] as const;

/** Every variable the learner reads; the README's config table mirrors this. */
export const learnerConfigSchema = defineConfig({
  grpc: {
    host: env.string('LEARNER_HOST', { default: '0.0.0.0', description: 'gRPC bind address' }),
    port: env.int('LEARNER_PORT', {
      default: 50054,
      min: 0,
      max: 65535,
      description: 'gRPC port (0 = any free port)',
    }),
    /** LEARNER_TLS_CERT_FILE, LEARNER_TLS_KEY_FILE, LEARNER_TLS_CLIENT_CA_FILE, LEARNER_HEALTH_PORT. */
    ...grpcServerTlsEnv('LEARNER'),
  },
  natsUrl: env.url('NATS_URL', {
    protocols: ['nats:', 'tls:', 'mem:'],
    description: 'NATS server (JetStream); mem://NAME = in-process transport',
  }),
  /** NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS_FILE, NATS_TLS_* (shared with every NATS client). */
  natsConnection: natsConnectionEnv(),
  runsDir: env.string('LEARNER_RUNS_DIR', {
    default: 'runs',
    minLength: 1,
    description: 'parent folder of run dirs (checkpoints, metrics.jsonl, run-config.json)',
  }),
  runConfigFile: env.optional(
    env.string('LEARNER_RUN_CONFIG', {
      description: 'run config JSON started at boot (resumed from its latest checkpoint when one exists)',
    }),
  ),
  dataDir: env.optional(env.string('VERDICT_DATA_DIR', { description: 'datasets folder for suite sources' })),
  evaluatorAddress: env.optional(
    env.string('LEARNER_EVALUATOR_ADDRESS', {
      description: 'evaluator host:port for evalEverySteps (unset = periodic evaluation off)',
    }),
  ),
  /** LEARNER_EVALUATOR_TLS, …_CA_FILE, …_SERVER_NAME, …_CERT_FILE, …_KEY_FILE. */
  evaluatorTls: grpcClientTlsEnv('LEARNER_EVALUATOR_TLS', 'the evaluator'),
  evalLimit: env.int('LEARNER_EVAL_LIMIT', {
    default: 50,
    min: 1,
    max: 100_000,
    description: 'problems per suite at each evaluation',
  }),
  evalDeadlineMs: env.durationMs('LEARNER_EVAL_DEADLINE', {
    default: 600_000,
    min: 1_000,
    description: 'deadline of one RunSuite call',
  }),
  scoredConsumer: env.string('LEARNER_SCORED_CONSUMER', {
    default: 'learner',
    description: 'durable consumer of verdict.rollout.scored',
  }),
  maxHeldRollouts: env.int('LEARNER_MAX_HELD_ROLLOUTS', {
    default: 4096,
    min: 1,
    max: 1_000_000,
    description: 'scored rollouts held unacked until their step is checkpointed (consumer max ack pending)',
  }),
  maxScoredMessageBytes: env.int('LEARNER_NATS_MAX_MESSAGE_BYTES', {
    default: 1_048_576,
    min: 1_024,
    max: 67_108_864,
    description: 'largest RolloutScored payload taken; larger ones are terminated as poison',
  }),
  ackWaitMs: env.durationMs('LEARNER_ACK_WAIT', {
    default: 60_000,
    min: 1_000,
    description: 'redelivery timeout of a held scored rollout (kept alive while held)',
  }),
  intraOpThreads: env.int('LEARNER_INTRA_OP_THREADS', {
    default: 1,
    min: 1,
    max: 64,
    description: 'ORT intra-op threads of the training session',
  }),
  executionProvider: env.enum('LEARNER_EXECUTION_PROVIDER', EXECUTION_PROVIDERS, {
    default: 'cpu',
    description: 'ONNX Runtime execution provider of the training, scoring and reference sessions',
  }),
  executionProviderFallback: env.enum('LEARNER_EXECUTION_PROVIDER_FALLBACK', EXECUTION_PROVIDER_FALLBACKS, {
    default: 'cpu',
    description: 'when the provider is unavailable: cpu = train on CPU and log it; never = fail to start',
  }),
  graceTimeoutMs: env.durationMs('LEARNER_GRACE_TIMEOUT', {
    default: 60_000,
    description: 'drain time on SIGTERM (finishes the current step)',
  }),
  telemetry: {
    otlpEndpoint: env.optional(
      env.url('OTEL_EXPORTER_OTLP_ENDPOINT', { description: 'OTLP/HTTP endpoint for traces and metrics' }),
    ),
    prometheusPort: env.optional(
      env.int('LEARNER_METRICS_PORT', { min: 0, max: 65535, description: 'Prometheus /metrics port' }),
    ),
  },
  logLevel: env.enum('LOG_LEVEL', ['debug', 'info', 'warn', 'error'], { default: 'info' }),
});

export type LearnerConfig = ConfigOf<typeof learnerConfigSchema.shape> & {
  /** TLS material of the gRPC port (read and checked at load); undefined = plaintext. */
  readonly tls: GrpcServerTlsPem | undefined;
};

export function loadLearnerConfig(source: Readonly<Record<string, string | undefined>>): LearnerConfig {
  const config = learnerConfigSchema.load(source);
  // Cross-variable NATS rules (user needs password, one auth method) fail the start, not the connect.
  natsConnectOptionsFromConfig(config.natsConnection);
  // A bad run file is a configuration error too (exit 2, every bad field named), not a failed start
  // after connecting; the app reads it again when it starts the run.
  if (config.runConfigFile !== undefined) loadRunConfigFile(config.runConfigFile);
  // TLS files are read and checked now: a bad Secret is a config error naming the variable.
  assertGrpcClientTls(config.evaluatorTls, 'LEARNER_EVALUATOR_TLS');
  return Object.freeze({ ...config, tls: grpcServerTlsFromConfig(config.grpc, 'LEARNER') });
}
