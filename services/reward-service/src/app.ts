import { commonV1, rewardV1 } from '@verdict/proto';
import {
  type ConsumeStats,
  connectMessaging,
  createGrpcMetricsObserver,
  createLifecycle,
  createMetrics,
  createServiceGrpcServers,
  createStderrLogger,
  createTracingServerInterceptor,
  grpcClientTransportOf,
  type Lifecycle,
  type Messaging,
  natsConnectOptionsFromConfig,
  natsTraceHooks,
  type RuntimeLogger,
  telemetryComponent,
} from '@verdict/runtime';
import { createJudgeAsker, type JudgeAsker } from './clients/judge-asker.js';
import type { RewardServiceConfig } from './config.js';
import { createGeneratedHandler, type GeneratedHandler } from './consumers/generated-consumer.js';
import { rewardSettingsFor } from './domain/reward-settings.js';
import {
  finishSample,
  type JudgedSample,
  judgeSample,
  type RewardSettings,
  type SampleToScore,
  scoreGroup,
} from './domain/score-sample.js';
import { createRewardHandlers } from './rpc/reward-rpc.js';
import { generatedConsumerSpec, ROLLOUTS_STREAM } from './streams.js';

export const REWARD_SERVICE_NAME = 'verdict.reward.v1.RewardService';

export interface RewardServiceDeps {
  readonly logger?: RuntimeLogger;
  /** Start OpenTelemetry (default: only when an OTLP endpoint or metrics port is configured). */
  readonly telemetry?: boolean;
  /** Run the JetStream consumer (default true; false = Score RPC only). */
  readonly consume?: boolean;
  readonly onScored?: (rolloutId: string, reward: rewardV1.RewardResult, duplicate: boolean) => void;
}

export interface RewardServiceApp {
  readonly lifecycle: Lifecycle;
  /** `healthAddress`: the plaintext health-only port, when REWARD_HEALTH_PORT is set. */
  start(): Promise<{ port: number; address: string; healthAddress?: string }>;
  stop(reason?: string): Promise<void>;
  /** Consume-loop counters once it stopped (undefined while running). */
  readonly consumeStats: ConsumeStats | undefined;
}

export function createRewardServiceApp(
  config: RewardServiceConfig,
  deps: RewardServiceDeps = {},
): RewardServiceApp {
  const logger = deps.logger ?? createStderrLogger('reward-service', config.logLevel);
  const lifecycle = createLifecycle({
    name: 'reward-service',
    graceTimeoutMs: config.graceTimeoutMs,
    logger,
  });
  const metrics = createMetrics();
  const scoredCounter = metrics.counter('rollouts_scored_total', 'scored rollouts by reward status');
  const scoreLatency = metrics.histogram('reward_score_duration_ms', 'time to score one sample');

  const defaults: RewardSettings = {
    mix: {
      weights: { vr: config.lambdaVr, judge: config.muJudge, rerank: config.rhoRerank },
      judgeOnLabeled: config.judgeOnLabeled,
    },
    extractionMode: config.extractionMode,
    verifiableCheck: 'answer',
    abstainBand: config.abstainBand,
    judgeTemplateName: config.judgeTemplateName,
    judgeTimeoutMs: config.judgeTimeoutMs,
    judgeScore: config.judgeScore,
  };
  let judge: JudgeAsker | undefined;
  let messaging: Messaging | undefined;
  let consumeStats: ConsumeStats | undefined;
  let consumeLoop: Promise<ConsumeStats> | undefined;
  const stopConsuming = new AbortController();

  const scoreRpcGroup = async (samples: readonly SampleToScore[], settings: RewardSettings) => {
    const startedMs = Date.now();
    const results = await scoreGroup(samples, settings, judge?.ask);
    for (let i = 0; i < results.length; i++) scoreLatency.record(Date.now() - startedMs);
    return results;
  };
  // Any rollout may carry ρ > 0 (its run's reward config), and held samples occupy consume-loop
  // slots while they wait for their group: the loop gets REWARD_RERANK_MAX_HELD slots on top of
  // REWARD_CONCURRENCY, and the judge calls alone are limited to REWARD_CONCURRENCY.
  const pullSlots = config.concurrency + config.rerankMaxHeld;
  const judgeSlots = createSlots(config.concurrency);
  const judgeLimited = (sample: SampleToScore, settings: RewardSettings): Promise<JudgedSample> =>
    judgeSlots.run(async () => {
      const startedMs = Date.now();
      const judged = await judgeSample(sample, settings, judge?.ask);
      scoreLatency.record(Date.now() - startedMs);
      return judged;
    });
  let handler: GeneratedHandler | undefined;

  // TLS per REWARD_TLS_*; with REWARD_HEALTH_PORT a plaintext health-only port for probes.
  const grpc = createServiceGrpcServers({
    name: 'reward-service',
    host: config.grpc.host,
    port: config.grpc.port,
    lifecycle,
    logger,
    graceTimeoutMs: config.graceTimeoutMs,
    interceptors: [createTracingServerInterceptor()],
    observers: [createGrpcMetricsObserver()],
    tls: config.tls,
    healthPort: config.grpc.healthPort,
  });
  const { server, healthServer } = grpc;
  // Registered first, so it stops last: probes see NOT_SERVING (not a refused port) while draining.
  if (healthServer !== undefined) lifecycle.register(healthServer);
  server.addService(
    rewardV1.RewardServiceService,
    createRewardHandlers({ defaults, scoreGroup: scoreRpcGroup, maxItems: 1024 }),
  );
  server.health.setReady(REWARD_SERVICE_NAME, false);

  lifecycle.register(
    telemetryComponent({
      serviceName: 'reward-service',
      otlpEndpoint: config.otlpEndpoint,
      prometheusPort: config.metricsPort,
      enabled: deps.telemetry,
    }),
  );
  // Stop runs in reverse: the consumer settles in-flight messages (publishing needs NATS and
  // the judge), then the gRPC server drains, then the judge client and NATS close.
  lifecycle.register({
    name: 'nats',
    start: async () => {
      messaging = await connectMessaging({
        servers: config.natsUrl,
        name: 'reward-service',
        headerHooks: natsTraceHooks,
        ...natsConnectOptionsFromConfig(config.natsConnection),
        logger,
        waitOnFirstConnect: true,
      });
      await messaging.ensureStream(ROLLOUTS_STREAM);
      await messaging.ensureConsumer(
        generatedConsumerSpec(
          config.consumerName,
          config.ackWaitMs,
          config.maxDeliver,
          // JetStream's default is 1000; raise it when one replica alone may hold more.
          pullSlots > 1000 ? pullSlots : undefined,
        ),
      );
    },
    stop: () => messaging?.close(),
  });
  lifecycle.register({
    name: 'judge-client',
    start: () => {
      if (config.judgeAddress !== undefined) {
        judge = createJudgeAsker({
          address: config.judgeAddress,
          timeoutMs: config.judgeTimeoutMs,
          maxAttempts: config.judgeMaxAttempts,
          tls: config.judgeTls,
        });
        logger.info(`judge client: ${grpcClientTransportOf(config.judgeTls)} to ${config.judgeAddress}`);
      }
    },
    stop: () => judge?.close(),
  });
  lifecycle.register(server);
  lifecycle.register({
    name: 'generated-consumer',
    start: () => {
      const m = messaging!;
      if (deps.consume !== false) {
        handler = createGeneratedHandler({
          settingsFor: (reward) => rewardSettingsFor(reward, defaults, 'request.reward'),
          judge: judgeLimited,
          finish: finishSample,
          groupTimeoutMs: config.rerankGroupTimeoutMs,
          maxMessageBytes: config.maxMessageBytes,
          publish: (subject, data, msgId) => m.publish(subject, data, { msgId }),
          logger,
          onScored: (rolloutId, reward, duplicate) => {
            scoredCounter.add(1, { status: commonV1.rewardStatusToJSON(reward.status) });
            deps.onScored?.(rolloutId, reward, duplicate);
          },
        });
        consumeLoop = m.consume({
          stream: ROLLOUTS_STREAM.name,
          consumer: config.consumerName,
          concurrency: pullSlots,
          signal: stopConsuming.signal,
          handler,
          onError: (error) => logger.warn('scoring failed; message will be redelivered', { error }),
        });
      }
      server.health.setReady(REWARD_SERVICE_NAME, true);
    },
    stop: async () => {
      stopConsuming.abort();
      // Held samples are not waited for: nak'd now, redelivered and re-judged as whole groups.
      handler?.close();
      consumeStats = await consumeLoop;
    },
  });

  return {
    lifecycle,
    async start() {
      grpc.logTransport();
      await lifecycle.start();
      return {
        port: server.port,
        address: server.address,
        ...(healthServer !== undefined ? { healthAddress: healthServer.address } : {}),
      };
    },
    async stop(reason = 'stop requested') {
      await lifecycle.stop(reason);
    },
    get consumeStats() {
      return consumeStats;
    },
  };
}

/** At most `limit` calls of `run` at once (the rest wait in arrival order). */
function createSlots(limit: number): { run<T>(task: () => Promise<T>): Promise<T> } {
  let active = 0;
  const waiting: Array<() => void> = [];
  return {
    async run(task) {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else active++;
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        if (next === undefined) active--;
        else next();
      }
    },
  };
}
