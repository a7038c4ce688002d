import { basename, resolve } from 'node:path';
import {
  createSessionPool,
  type ExecutionProviderInfo,
  formatExecutionProvider,
  resolveExecutionProvider,
  type SessionPool,
} from '@verdict/graph';
import { type FamilyModel, loadModel } from '@verdict/models';
import { policyV1 } from '@verdict/proto';
import {
  connectMessaging,
  createGrpcMetricsObserver,
  createLifecycle,
  createServiceGrpcServers,
  createStderrLogger,
  createTracingServerInterceptor,
  type GrpcServer,
  type Lifecycle,
  type Messaging,
  natsConnectOptionsFromConfig,
  natsTraceHooks,
  type RuntimeLogger,
  startTelemetry,
  type Telemetry,
} from '@verdict/runtime';
import type { PolicyConfig } from './config.js';
import {
  defaultGeneratorId,
  type RolloutConsumer,
  startRolloutConsumer,
} from './consumers/rollout-consumer.js';
import { startWeightsSubscriber, type WeightsSubscriber } from './consumers/weights-subscriber.js';
import { createModelHolder, type ModelHolder } from './domain/model-holder.js';
import {
  createGenerator,
  type Generator,
  type GeneratorStats,
  type ServedModel,
} from './generation/generator.js';
import { createPolicyService } from './rpc/policy-service.js';
import { modelSessionOptions, warmUp } from './weights/build-model.js';
import { createHotSwap, type WeightsEvent } from './weights/hot-swap.js';

export const POLICY_SERVICE_NAME = 'verdict.policy.v1.PolicyService';

export interface PolicyAppDeps {
  /**
   * An already-loaded model (any family) to serve instead of loading `config.model.dir` (tests,
   * one-process stack).
   */
  readonly model?: FamilyModel;
  /** Version of `model` (default 0 = the checkpoint on disk). */
  readonly initialVersion?: bigint;
  readonly logger?: RuntimeLogger;
}

export interface PolicyHealth {
  readonly state: string;
  /** SERVING and a model loaded. */
  readonly ready: boolean;
  readonly loadedVersion: bigint | undefined;
  readonly natsConnected: boolean;
  /** Requested and active execution provider (undefined before the model loads). */
  readonly executionProvider: ExecutionProviderInfo | undefined;
}

export interface PolicyApp {
  /** `healthAddress`: the plaintext health-only port, when POLICY_HEALTH_PORT is set. */
  start(): Promise<{ port: number; address: string; healthAddress?: string }>;
  /** Graceful: gRPC drains in-flight streams, the consumers settle their messages, models close. */
  stop(reason?: string): Promise<void>;
  health(): PolicyHealth;
  readonly lifecycle: Lifecycle;
  readonly generatorStats: Readonly<GeneratorStats>;
  /** Rollouts this replica generated and published. */
  readonly rolloutsPublished: number;
  /** Weights loaded / rejected / skipped, for tests and logs. Returns an unsubscribe function. */
  onWeightsEvent(listener: (event: WeightsEvent) => void): () => void;
}

export function createPolicyApp(config: PolicyConfig, deps: PolicyAppDeps = {}): PolicyApp {
  const logger = deps.logger ?? createStderrLogger('policy-server', config.logLevel);
  const lifecycle = createLifecycle({ name: 'policy-server', graceTimeoutMs: config.graceTimeoutMs, logger });
  const modelId = config.model.id ?? basename(resolve(config.model.dir));
  const listeners = new Set<(e: WeightsEvent) => void>();
  const holder: ModelHolder<ServedModel> = createModelHolder<ServedModel>({
    closeModel: (m) => m.close(),
    onCloseError: (error, version) =>
      logger.warn('closing old weights failed', { version: version.toString(), error }),
  });
  const generator: Generator = createGenerator({
    holder,
    maxBatchSize: config.batching.maxBatchSize,
    maxWaitMs: config.batching.maxWaitMs,
    maxPendingSequences: config.batching.maxPendingSequences,
    onBatchError: (error) => logger.error('generation batch failed', { error }),
  });
  let baseModel: FamilyModel | undefined = deps.model;
  let telemetry: Telemetry | undefined;
  let messaging: Messaging | undefined;
  let rollouts: RolloutConsumer | undefined;
  let weights: WeightsSubscriber | undefined;
  let server: GrpcServer | undefined;
  let executionProvider: ExecutionProviderInfo | undefined;
  // One pool of session workers for the life of the server: each weights version loads its sessions
  // into the same warm workers (a fresh pool per version would start threads and ONNX Runtime again:
  // measured ~450 ms against ~125 ms per hot swap of the toy student).
  let pool: SessionPool | undefined;
  let sessions = modelSessionOptions(config);

  /** One line per provider decision; a fallback is a warning, never silent. */
  const reportProvider = (info: ExecutionProviderInfo, fields: Record<string, unknown> = {}) => {
    const line = `execution provider: ${formatExecutionProvider(info)}`;
    if (info.fallbackReason === undefined) logger.info(line, fields);
    else logger.warn(line, { ...fields, requested: info.requested, active: info.active });
  };

  const setReady = () => server?.health.setReady(POLICY_SERVICE_NAME, holder.version !== undefined);

  // TLS per POLICY_TLS_*; with POLICY_HEALTH_PORT a plaintext health-only port for probes,
  // registered first so it answers (NOT_SERVING) while the model loads and stops last.
  const grpc = createServiceGrpcServers({
    name: 'policy-grpc',
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
  server = grpc.server;
  if (grpc.healthServer !== undefined) lifecycle.register(grpc.healthServer);

  lifecycle.register({
    name: 'model',
    async start() {
      if (config.telemetry.otlpEndpoint !== undefined || config.telemetry.prometheusPort !== undefined) {
        telemetry = await startTelemetry({
          serviceName: 'policy-server',
          ...(config.telemetry.otlpEndpoint === undefined
            ? {}
            : { otlpEndpoint: config.telemetry.otlpEndpoint }),
          ...(config.telemetry.prometheusPort === undefined
            ? {}
            : { prometheusPort: config.telemetry.prometheusPort }),
        });
      }
      // Checked before loading anything: with POLICY_EXECUTION_PROVIDER_FALLBACK=never an
      // unavailable provider fails the start with an error naming the variables.
      const resolved = await resolveExecutionProvider(
        {
          executionProvider: config.model.executionProvider,
          executionProviderFallback: config.model.executionProviderFallback,
        },
        { variable: 'POLICY_EXECUTION_PROVIDER' },
      );
      pool = createSessionPool({
        workers: config.model.sessionReplicas,
        intraOpThreadsPerWorker: config.model.intraOpThreads,
      });
      sessions = { ...sessions, pool };
      // Any registered family, picked by config.json's model_type (hot swaps keep that family).
      baseModel ??= loadModel(config.model.dir, { ...sessions, releaseWeightsAfterLoad: 'generation' });
      await warmUp(baseModel);
      // What the warmed session actually got (an injected model reports its own provider).
      executionProvider = baseModel.executionProvider ?? resolved;
      reportProvider(executionProvider);
      holder.install(baseModel, deps.initialVersion ?? 0n);
      logger.info('model loaded', { modelId, version: (deps.initialVersion ?? 0n).toString() });
    },
    async stop() {
      await generator.close();
      await holder.close();
      await pool?.close();
      await telemetry?.shutdown();
    },
  });

  if (config.nats.url !== undefined) {
    const natsUrl = config.nats.url;
    lifecycle.register({
      name: 'nats',
      async start() {
        messaging = await connectMessaging({
          servers: natsUrl,
          name: 'policy-server',
          headerHooks: natsTraceHooks,
          ...natsConnectOptionsFromConfig(config.nats.connection),
          logger,
        });
        const base = baseModel!;
        weights = await startWeightsSubscriber({
          messaging,
          logger,
          runId: config.nats.runId,
          maxMessageBytes: config.nats.maxMessageBytes,
          onPublished: createHotSwap({
            holder,
            messaging,
            config: base.config,
            tokenizer: base.tokenizer,
            sessions,
            onExecutionProvider: (info, version) => {
              // Only a change is news (e.g. a new version's session could not get the GPU).
              if (formatExecutionProvider(info) === formatExecutionProvider(executionProvider ?? info))
                return;
              executionProvider = info;
              reportProvider(info, { version: version.toString() });
            },
            runId: config.nats.runId,
            logger,
            onEvent: (e) => {
              setReady();
              for (const l of listeners) l(e);
            },
          }),
        });
        rollouts = await startRolloutConsumer({
          messaging,
          holder,
          generator,
          limits: config.limits,
          consumerName: config.nats.rolloutConsumer,
          concurrency: config.nats.rolloutConcurrency ?? 2 * config.batching.maxBatchSize,
          ackWaitMs: config.nats.rolloutAckWaitMs,
          maxDeliver: config.nats.rolloutMaxDeliver,
          staleRetryDelayMs: config.nats.staleRetryDelayMs,
          generatorId: config.instanceId ?? defaultGeneratorId(),
          maxMessageBytes: config.nats.maxMessageBytes,
          logger,
        });
      },
      async stop() {
        // Stop taking rollouts first; in-flight ones finish, publish and ack.
        await rollouts?.stop();
        await weights?.stop();
        await messaging?.close();
      },
    });
  }

  server.addService(
    policyV1.PolicyServiceService,
    createPolicyService({
      holder,
      generator,
      limits: config.limits,
      modelId,
      maxBatchSize: config.batching.maxBatchSize,
      executionProvider: () => executionProvider,
    }),
  );
  server.health.setReady(POLICY_SERVICE_NAME, false);
  lifecycle.register(server);
  lifecycle.register({ name: 'readiness', start: setReady });

  return {
    lifecycle,
    async start() {
      grpc.logTransport();
      await lifecycle.start();
      const healthAddress = grpc.healthAddress;
      return {
        port: server!.port,
        address: server!.address,
        ...(healthAddress !== undefined ? { healthAddress } : {}),
      };
    },
    async stop(reason = 'stop requested') {
      await lifecycle.stop(reason);
    },
    health() {
      const state = lifecycle.state;
      return {
        state,
        ready: state === 'SERVING' && holder.version !== undefined,
        loadedVersion: holder.version,
        natsConnected: messaging !== undefined && !messaging.isClosed(),
        executionProvider,
      };
    },
    get generatorStats() {
      return generator.stats;
    },
    get rolloutsPublished() {
      return rollouts?.published ?? 0;
    },
    onWeightsEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
