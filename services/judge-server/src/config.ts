import {
  type ConfigOf,
  defineConfig,
  env,
  type GrpcServerTlsOptions,
  isVerdictError,
  resolveGrpcServerTls,
  VerdictError,
} from '@verdict/runtime';

// Literal lists (not imported from @verdict/graph, which would load ONNX Runtime with the config).
const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;
const EXECUTION_PROVIDER_FALLBACKS = ['cpu', 'never'] as const;

const schema = defineConfig({
  grpc: {
    host: env.string('JUDGE_HOST', { default: '0.0.0.0', description: 'gRPC bind address' }),
    port: env.int('JUDGE_PORT', { default: 50052, min: 0, max: 65535, description: 'gRPC port (0 = any)' }),
    tlsCertFile: env.optional(
      env.string('JUDGE_TLS_CERT_FILE', {
        minLength: 1,
        description: 'PEM server certificate chain: TLS on the gRPC port (with JUDGE_TLS_KEY_FILE)',
      }),
    ),
    tlsKeyFile: env.optional(
      env.string('JUDGE_TLS_KEY_FILE', {
        minLength: 1,
        description: 'PEM private key of JUDGE_TLS_CERT_FILE',
      }),
    ),
    tlsClientCaFile: env.optional(
      env.string('JUDGE_TLS_CLIENT_CA_FILE', {
        minLength: 1,
        description: 'PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS)',
      }),
    ),
    healthPort: env.optional(
      env.int('JUDGE_HEALTH_PORT', {
        min: 0,
        max: 65535,
        description: 'extra plaintext port serving only grpc.health.v1 (probes when the gRPC port has TLS)',
      }),
    ),
  },
  modelDir: env.string('JUDGE_MODEL_DIR', {
    minLength: 1,
    description: 'Hugging Face model folder of the judge (config.json, safetensors, tokenizer.json)',
  }),
  modelId: env.optional(
    env.string('JUDGE_MODEL_ID', { description: 'judge model id in provenance (default: folder name)' }),
  ),
  defaultTemplate: env.enum('JUDGE_DEFAULT_TEMPLATE', ['auto', 'plain', 'chat'], {
    default: 'auto',
    description: 'template for items with an empty template_name',
  }),
  maxBatchSize: env.int('JUDGE_MAX_BATCH_SIZE', {
    default: 32,
    min: 1,
    max: 512,
    description: 'most items in one model call',
  }),
  maxBatchWaitMs: env.durationMs('JUDGE_MAX_BATCH_WAIT', {
    default: 5,
    max: 1_000,
    description: 'longest an item waits for a fuller batch',
  }),
  maxQueueItems: env.int('JUDGE_MAX_QUEUE_ITEMS', {
    default: 1024,
    min: 1,
    description: 'bounded queue; a request that does not fit gets RESOURCE_EXHAUSTED',
  }),
  maxRequestItems: env.int('JUDGE_MAX_REQUEST_ITEMS', {
    default: 256,
    min: 1,
    description: 'largest JudgeBatch request (more items = INVALID_ARGUMENT on field items)',
  }),
  maxQueueWaitMs: env.durationMs('JUDGE_MAX_QUEUE_WAIT', {
    default: 30_000,
    min: 1,
    description: 'server-side deadline of an item in the queue (the call deadline applies when sooner)',
  }),
  intraOpThreads: env.int('JUDGE_INTRA_OP_THREADS', {
    default: 1,
    min: 1,
    max: 64,
    description: 'ONNX Runtime intra-op threads',
  }),
  executionProvider: env.enum('JUDGE_EXECUTION_PROVIDER', EXECUTION_PROVIDERS, {
    default: 'cpu',
    description: 'ONNX Runtime execution provider of the judge sessions',
  }),
  executionProviderFallback: env.enum('JUDGE_EXECUTION_PROVIDER_FALLBACK', EXECUTION_PROVIDER_FALLBACKS, {
    default: 'cpu',
    description:
      'when the provider is unavailable: cpu = run on CPU and report it (log, GetJudgeInfo, metric); never = fail to start',
  }),
  graceTimeoutMs: env.durationMs('JUDGE_GRACE_TIMEOUT', {
    default: 30_000,
    description: 'graceful drain limit on SIGTERM',
  }),
  otlpEndpoint: env.optional(
    env.url('OTEL_EXPORTER_OTLP_ENDPOINT', { description: 'OTLP/HTTP endpoint; unset = no export' }),
  ),
  metricsPort: env.optional(
    env.int('JUDGE_METRICS_PORT', { min: 0, max: 65535, description: 'Prometheus /metrics port' }),
  ),
  logLevel: env.enum('LOG_LEVEL', ['debug', 'info', 'warn', 'error'], { default: 'info' }),
});

/** PEM text read at load time (strings, so the config stays deeply frozen). */
export interface JudgeServerTls {
  readonly cert: string;
  readonly key: string;
  readonly clientCa: string | undefined;
}

export type JudgeServerConfig = ConfigOf<typeof schema.shape> & {
  /** TLS material of the gRPC port; undefined = plaintext. */
  readonly tls: JudgeServerTls | undefined;
};

const TLS_LABELS = {
  cert: 'JUDGE_TLS_CERT_FILE',
  key: 'JUDGE_TLS_KEY_FILE',
  clientCa: 'JUDGE_TLS_CLIENT_CA_FILE',
} as const;

export function loadJudgeServerConfig(source: Record<string, string | undefined>): JudgeServerConfig {
  const loaded = schema.load(source);
  return Object.freeze({ ...loaded, tls: loadTls(loaded.grpc) });
}

/** The files are read (and the key checked against the certificate) now, so a bad secret is a config error. */
function loadTls(grpc: JudgeServerConfig['grpc']): JudgeServerTls | undefined {
  const { tlsCertFile, tlsKeyFile, tlsClientCaFile } = grpc;
  if (tlsCertFile === undefined && tlsKeyFile === undefined && tlsClientCaFile === undefined)
    return undefined;
  const options: GrpcServerTlsOptions = {
    ...(tlsCertFile !== undefined ? { certFile: tlsCertFile } : {}),
    ...(tlsKeyFile !== undefined ? { keyFile: tlsKeyFile } : {}),
    ...(tlsClientCaFile !== undefined ? { clientCaFile: tlsClientCaFile } : {}),
  };
  try {
    if (tlsCertFile === undefined && tlsKeyFile === undefined) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `${TLS_LABELS.clientCa} needs ${TLS_LABELS.cert} and ${TLS_LABELS.key} (mutual TLS is TLS first)`,
        { field: TLS_LABELS.clientCa },
      );
    }
    const tls = resolveGrpcServerTls(options, TLS_LABELS);
    return {
      cert: tls.cert.toString('utf8'),
      key: tls.key.toString('utf8'),
      clientCa: tls.clientCa?.toString('utf8'),
    };
  } catch (error) {
    if (!isVerdictError(error)) throw error;
    // The same shape as the schema's errors: one line per problem under one heading.
    throw new VerdictError('INVALID_ARGUMENT', `invalid configuration (1 problem):\n  ${error.message}`, {
      field: error.field ?? TLS_LABELS.cert,
      cause: error,
    });
  }
}

export const judgeServerConfigVariables = () => schema.describe();
