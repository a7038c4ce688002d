import {
  type ConfigOf,
  defineConfig,
  env,
  type GrpcServerTlsPem,
  grpcServerTlsEnv,
  grpcServerTlsFromConfig,
} from '@verdict/runtime';
import { type LoadedJudgeCalibration, readJudgeCalibration } from './engine/judge-calibration.js';

// Literal lists (not imported from @verdict/graph, which would load ONNX Runtime with the config).
const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;
const EXECUTION_PROVIDER_FALLBACKS = ['cpu', 'never'] as const;

const schema = defineConfig({
  grpc: {
    host: env.string('JUDGE_HOST', { default: '0.0.0.0', description: 'gRPC bind address' }),
    port: env.int('JUDGE_PORT', { default: 50052, min: 0, max: 65535, description: 'gRPC port (0 = any)' }),
    /** JUDGE_TLS_CERT_FILE, JUDGE_TLS_KEY_FILE, JUDGE_TLS_CLIENT_CA_FILE, JUDGE_HEALTH_PORT. */
    ...grpcServerTlsEnv('JUDGE'),
  },
  modelDir: env.string('JUDGE_MODEL_DIR', {
    minLength: 1,
    description: 'Hugging Face model folder of the judge (config.json, safetensors, tokenizer.json)',
  }),
  modelId: env.optional(
    env.string('JUDGE_MODEL_ID', { description: 'judge model id in provenance (default: folder name)' }),
  ),
  calibrationFile: env.optional(
    env.string('JUDGE_CALIBRATION_FILE', {
      minLength: 1,
      description:
        'calibration.json from `verdict judge calibrate` (unset = <JUDGE_MODEL_DIR>/calibration.json when present; none = no calibration)',
    }),
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

export type JudgeServerConfig = ConfigOf<typeof schema.shape> & {
  /** TLS material of the gRPC port (read and checked at load); undefined = plaintext. */
  readonly tls: GrpcServerTlsPem | undefined;
  /** The calibration applied to scores (read and checked at load); undefined = raw scores only. */
  readonly calibration: LoadedJudgeCalibration | undefined;
};

export function loadJudgeServerConfig(source: Record<string, string | undefined>): JudgeServerConfig {
  const loaded = schema.load(source);
  return Object.freeze({
    ...loaded,
    tls: grpcServerTlsFromConfig(loaded.grpc, 'JUDGE'),
    calibration: readJudgeCalibration(loaded.calibrationFile, loaded.modelDir),
  });
}

export const judgeServerConfigVariables = () => schema.describe();
