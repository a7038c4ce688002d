import {
  type ConfigOf,
  defineConfig,
  env,
  type GrpcServerTlsPem,
  grpcServerTlsEnv,
  grpcServerTlsFromConfig,
  natsConnectionEnv,
  natsConnectOptionsFromConfig,
} from '@verdict/runtime';

// Literal lists (not imported from @verdict/graph, which would load ONNX Runtime with the config).
const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;
const EXECUTION_PROVIDER_FALLBACKS = ['cpu', 'never'] as const;

/** Every variable the policy-server reads; the README's config table mirrors this. */
export const policyConfigSchema = defineConfig({
  grpc: {
    host: env.string('POLICY_HOST', { default: '0.0.0.0', description: 'gRPC bind address' }),
    port: env.int('POLICY_PORT', {
      default: 50051,
      min: 0,
      max: 65535,
      description: 'gRPC port (0 = any free port)',
    }),
    /** POLICY_TLS_CERT_FILE, POLICY_TLS_KEY_FILE, POLICY_TLS_CLIENT_CA_FILE, POLICY_HEALTH_PORT. */
    ...grpcServerTlsEnv('POLICY'),
  },
  model: {
    dir: env.string('POLICY_MODEL_DIR', {
      minLength: 1,
      description: 'Hugging Face model folder (config.json, tokenizer, safetensors = weights version 0)',
    }),
    id: env.optional(
      env.string('POLICY_MODEL_ID', {
        description: 'model id reported in ModelRef (default: the folder name)',
      }),
    ),
    intraOpThreads: env.int('POLICY_INTRA_OP_THREADS', {
      default: 1,
      min: 1,
      max: 64,
      description: 'ORT intra-op threads of each session replica',
    }),
    sessionReplicas: env.int('POLICY_SESSION_REPLICAS', {
      default: 1,
      min: 1,
      max: 64,
      description:
        'copies of the generation sessions, each on its own worker thread; a batch runs as that many concurrent sub-batches (weights memory × n)',
    }),
    executionProvider: env.enum('POLICY_EXECUTION_PROVIDER', EXECUTION_PROVIDERS, {
      default: 'cpu',
      description: 'ONNX Runtime execution provider of the policy sessions',
    }),
    executionProviderFallback: env.enum('POLICY_EXECUTION_PROVIDER_FALLBACK', EXECUTION_PROVIDER_FALLBACKS, {
      default: 'cpu',
      description:
        'when the provider is unavailable: cpu = run on CPU and report it (log, GetModelInfo); never = fail to start',
    }),
  },
  batching: {
    maxBatchSize: env.int('POLICY_MAX_BATCH_SIZE', {
      default: 16,
      min: 1,
      max: 1024,
      description: 'sequences decoded together',
    }),
    maxWaitMs: env.durationMs('POLICY_MAX_BATCH_WAIT', {
      default: 5,
      max: 10_000,
      description: 'longest wait for a batch to fill',
    }),
    maxPendingSequences: env.int('POLICY_MAX_PENDING_SEQUENCES', {
      default: 1024,
      min: 1,
      description: 'queued + running sequences beyond which Generate answers RESOURCE_EXHAUSTED',
    }),
  },
  limits: {
    defaultMaxNewTokens: env.int('POLICY_DEFAULT_MAX_NEW_TOKENS', {
      default: 128,
      min: 1,
      description: 'used when max_new_tokens is 0',
    }),
    maxNewTokens: env.int('POLICY_MAX_NEW_TOKENS_LIMIT', {
      default: 2048,
      min: 1,
      description: 'largest accepted max_new_tokens',
    }),
    maxSequencesPerRequest: env.int('POLICY_MAX_SEQUENCES_PER_REQUEST', {
      default: 256,
      min: 1,
      description: 'prompts × samples_per_prompt accepted in one Generate call',
    }),
    maxStopStrings: env.int('POLICY_MAX_STOP_STRINGS', {
      default: 16,
      min: 0,
      description: 'stop strings per request',
    }),
    maxStopStringLength: env.int('POLICY_MAX_STOP_STRING_LENGTH', {
      default: 64,
      min: 1,
      description: 'characters per stop string',
    }),
  },
  nats: {
    url: env.optional(
      env.url('NATS_URL', {
        protocols: ['nats:', 'tls:', 'mem:'],
        description: 'NATS server; mem://NAME = in-process; unset = gRPC only',
      }),
    ),
    /** NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS_FILE, NATS_TLS_* (shared with every NATS client). */
    connection: natsConnectionEnv(),
    rolloutConsumer: env.string('POLICY_ROLLOUT_CONSUMER', {
      default: 'policy-server',
      description: 'durable consumer of verdict.rollout.requested shared by all replicas',
    }),
    rolloutConcurrency: env.optional(
      env.int('POLICY_ROLLOUT_CONCURRENCY', {
        min: 1,
        max: 4096,
        description:
          'rollouts in flight per replica (default: 2 × max batch size, so the next batch is queued while one decodes)',
      }),
    ),
    rolloutAckWaitMs: env.durationMs('POLICY_ROLLOUT_ACK_WAIT', {
      default: 60_000,
      min: 1_000,
      description: 'redelivery timeout',
    }),
    rolloutMaxDeliver: env.int('POLICY_ROLLOUT_MAX_DELIVER', {
      default: 20,
      min: 1,
      description: 'deliveries before a rollout is termed',
    }),
    staleRetryDelayMs: env.durationMs('POLICY_STALE_RETRY_DELAY', {
      default: 1_000,
      description: 'nak delay when a rollout wants newer weights than loaded',
    }),
    maxMessageBytes: env.int('POLICY_NATS_MAX_MESSAGE_BYTES', {
      default: 1_048_576,
      min: 1_024,
      max: 67_108_864,
      description:
        'largest RolloutRequested or WeightsPublished payload taken; larger ones are terminated (skipped for weights) as poison',
    }),
    runId: env.optional(
      env.string('POLICY_RUN_ID', {
        description: 'only load WeightsPublished of this run (default: any run)',
      }),
    ),
  },
  instanceId: env.optional(
    env.string('POLICY_INSTANCE_ID', { description: 'generator_id on rollouts (default: host:pid)' }),
  ),
  graceTimeoutMs: env.durationMs('POLICY_GRACE_TIMEOUT', {
    default: 30_000,
    description: 'drain time on SIGTERM',
  }),
  telemetry: {
    otlpEndpoint: env.optional(
      env.url('OTEL_EXPORTER_OTLP_ENDPOINT', { description: 'OTLP/HTTP endpoint for traces and metrics' }),
    ),
    prometheusPort: env.optional(
      env.int('POLICY_METRICS_PORT', { min: 0, max: 65535, description: 'Prometheus /metrics port' }),
    ),
  },
  logLevel: env.enum('LOG_LEVEL', ['debug', 'info', 'warn', 'error'], { default: 'info' }),
});

export type PolicyConfig = ConfigOf<typeof policyConfigSchema.shape> & {
  /** TLS material of the gRPC port (read and checked at load); undefined = plaintext. */
  readonly tls: GrpcServerTlsPem | undefined;
};

export function loadPolicyConfig(source: Readonly<Record<string, string | undefined>>): PolicyConfig {
  const config = policyConfigSchema.load(source);
  // Cross-variable NATS rules (user needs password, one auth method) fail the start, not the connect.
  natsConnectOptionsFromConfig(config.nats.connection);
  // The TLS files are read (and the key checked against the certificate) now: a bad Secret is a config error.
  return Object.freeze({ ...config, tls: grpcServerTlsFromConfig(config.grpc, 'POLICY') });
}
