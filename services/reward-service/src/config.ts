import {
  type ConfigOf,
  defineConfig,
  env,
  type GrpcServerTlsPem,
  grpcClientTlsEnv,
  grpcClientTlsProblems,
  grpcServerTlsEnv,
  natsConnectionEnv,
  natsConnectionProblems,
  readGrpcServerTls,
  VerdictError,
} from '@verdict/runtime';

const schema = defineConfig({
  grpc: {
    host: env.string('REWARD_HOST', { default: '0.0.0.0', description: 'gRPC bind address' }),
    port: env.int('REWARD_PORT', { default: 50053, min: 0, max: 65535, description: 'gRPC port (0 = any)' }),
    /** REWARD_TLS_CERT_FILE, REWARD_TLS_KEY_FILE, REWARD_TLS_CLIENT_CA_FILE, REWARD_HEALTH_PORT. */
    ...grpcServerTlsEnv('REWARD'),
  },
  natsUrl: env.url('NATS_URL', {
    protocols: ['nats:', 'tls:', 'mem:'],
    description: 'NATS server; mem://NAME = in-process transport',
  }),
  /** NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS_FILE, NATS_TLS_* (shared with every NATS client). */
  natsConnection: natsConnectionEnv(),
  judgeAddress: env.optional(
    env.string('JUDGE_ADDRESS', { description: 'judge-server host:port (needed when μ or ρ > 0)' }),
  ),
  /** REWARD_JUDGE_TLS, REWARD_JUDGE_TLS_CA_FILE, …_SERVER_NAME, …_CERT_FILE, …_KEY_FILE. */
  judgeTls: grpcClientTlsEnv('REWARD_JUDGE_TLS', 'the judge-server'),
  lambdaVr: env.number('REWARD_LAMBDA_VR', { default: 0.5, min: 0, max: 1, description: 'λ' }),
  muJudge: env.number('REWARD_MU_JUDGE', { default: 0.5, min: 0, max: 1, description: 'μ' }),
  rhoRerank: env.number('REWARD_RHO_RERANK', {
    default: 0,
    min: 0,
    max: 1,
    description: 'ρ, rerank weight (group-relative rank of the judge score)',
  }),
  rerankGroupTimeoutMs: env.durationMs('REWARD_RERANK_GROUP_TIMEOUT', {
    default: 30_000,
    min: 1,
    description:
      'ρ > 0: longest wait for a group to complete before its members are published without rerank',
  }),
  rerankMaxHeld: env.int('REWARD_RERANK_MAX_HELD', {
    default: 256,
    min: 1,
    max: 65_536,
    description: 'ρ > 0: judged samples held unacked while their group completes',
  }),
  judgeOnLabeled: env.bool('REWARD_JUDGE_ON_LABELED', {
    default: true,
    description: 'labeled questions also get the judge term',
  }),
  judgeTemplateName: env.string('REWARD_JUDGE_TEMPLATE', {
    default: '',
    description: 'judge template ("" = the judge-server default)',
  }),
  judgeScore: env.enum('REWARD_JUDGE_SCORE', ['raw', 'calibrated'], {
    default: 'raw',
    description:
      "judge score the μ and ρ terms use: raw = sigmoid(z_yes - z_no); calibrated = the judge-server's calibrated_score (an item without one is an ERROR component)",
  }),
  judgeTimeoutMs: env.durationMs('REWARD_JUDGE_TIMEOUT', {
    default: 30_000,
    min: 1,
    description: 'deadline of one judge call incl. retries',
  }),
  judgeMaxAttempts: env.int('REWARD_JUDGE_MAX_ATTEMPTS', { default: 4, min: 1, max: 20 }),
  abstainBand: env.number('REWARD_ABSTAIN_BAND', { default: 0, min: 0, max: 0.5 }),
  extractionMode: env.enum('REWARD_EXTRACTION_MODE', ['strict', 'flexible'], { default: 'strict' }),
  consumerName: env.string('REWARD_CONSUMER', { default: 'reward-service', pattern: /^[A-Za-z0-9_-]+$/ }),
  concurrency: env.int('REWARD_CONCURRENCY', { default: 16, min: 1, max: 1024 }),
  ackWaitMs: env.durationMs('REWARD_ACK_WAIT', { default: 60_000, min: 1_000 }),
  maxDeliver: env.int('REWARD_MAX_DELIVER', { default: 10, min: 1 }),
  maxMessageBytes: env.int('REWARD_NATS_MAX_MESSAGE_BYTES', {
    default: 1_048_576,
    min: 1_024,
    max: 67_108_864,
    description: 'largest RolloutGenerated payload taken; larger ones are terminated as poison',
  }),
  graceTimeoutMs: env.durationMs('REWARD_GRACE_TIMEOUT', { default: 30_000 }),
  otlpEndpoint: env.optional(env.url('OTEL_EXPORTER_OTLP_ENDPOINT')),
  metricsPort: env.optional(env.int('REWARD_METRICS_PORT', { min: 0, max: 65535 })),
  logLevel: env.enum('LOG_LEVEL', ['debug', 'info', 'warn', 'error'], { default: 'info' }),
});

export type RewardServiceConfig = ConfigOf<typeof schema.shape> & {
  /** TLS material of the gRPC port (read and checked at load); undefined = plaintext. */
  readonly tls: GrpcServerTlsPem | undefined;
};

/** Variables plus cross-field rules (weights sum to 1, a judge when μ or ρ > 0), all problems at once. */
export function loadRewardServiceConfig(source: Record<string, string | undefined>): RewardServiceConfig {
  const config = schema.load(source);
  const problems: string[] = [];
  const sum = config.lambdaVr + config.muJudge + config.rhoRerank;
  if (Math.abs(sum - 1) > 1e-9) {
    problems.push(`REWARD_LAMBDA_VR + REWARD_MU_JUDGE + REWARD_RHO_RERANK must be 1 (got ${sum})`);
  }
  if ((config.muJudge > 0 || config.rhoRerank > 0) && config.judgeAddress === undefined) {
    problems.push('JUDGE_ADDRESS is not set: required when REWARD_MU_JUDGE or REWARD_RHO_RERANK > 0');
  }
  problems.push(...grpcClientTlsProblems(config.judgeTls, 'REWARD_JUDGE_TLS'));
  const serverTls = readGrpcServerTls(config.grpc, 'REWARD');
  if (serverTls.problem !== undefined) problems.push(serverTls.problem);
  problems.push(...natsConnectionProblems(config.natsConnection));
  if (problems.length > 0) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `invalid configuration (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`,
      {
        field:
          'REWARD_LAMBDA_VR,REWARD_MU_JUDGE,REWARD_RHO_RERANK,JUDGE_ADDRESS,REWARD_JUDGE_TLS,REWARD_TLS_CERT_FILE,NATS_USER,NATS_PASSWORD,NATS_TOKEN,NATS_CREDS_FILE,NATS_TLS_CERT_FILE,NATS_TLS_KEY_FILE',
      },
    );
  }
  return Object.freeze({ ...config, tls: serverTls.tls });
}

export const rewardServiceConfigVariables = () => schema.describe();
