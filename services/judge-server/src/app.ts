import { basename, resolve } from 'node:path';
import {
  type ExecutionProviderInfo,
  formatExecutionProvider,
  resolveExecutionProvider,
} from '@verdict/graph';
import {
  type CausalLmConfig,
  type JudgeResult as EngineResult,
  type FamilyModel,
  type JudgeModel,
  loadModel,
} from '@verdict/models';
import { judgeV1 } from '@verdict/proto';
import {
  createGrpcMetricsObserver,
  createLifecycle,
  createMetrics,
  createServiceGrpcServers,
  createStderrLogger,
  createTracingServerInterceptor,
  type Lifecycle,
  type RuntimeLogger,
  telemetryComponent,
  VerdictError,
} from '@verdict/runtime';
import type { JudgeServerConfig } from './config.js';
import { type BatchReport, createDynamicBatcher, type DynamicBatcher } from './domain/dynamic-batcher.js';
import { createJudgeEngine, type JudgeEngine } from './engine/judge-engine.js';
import { createJudgeInfoHandlers } from './rpc/judge-info-service.js';
import { createJudgeServiceHandlers, type JudgeInput } from './rpc/judge-service.js';
import { JUDGE_SERVICE_DEFINITION } from './rpc/judge-stream-definition.js';

export const JUDGE_SERVICE_NAME = 'verdict.judge.v1.JudgeService';

export interface JudgeServerDeps {
  /** An already-loaded model of any family (tests, the one-process stack); the app does not close it. */
  readonly model?: JudgeModel<CausalLmConfig>;
  readonly logger?: RuntimeLogger;
  /** Start OpenTelemetry (default: only when an OTLP endpoint or metrics port is configured). */
  readonly telemetry?: boolean;
  /** Observes every model call (tests count batches with it). */
  readonly onBatch?: (report: BatchReport) => void;
}

export interface JudgeServerStats {
  batches: number;
  itemsJudged: number;
  maxBatchSizeSeen: number;
  maxQueueDepthSeen: number;
  queueDepth: number;
}

export interface JudgeServerApp {
  readonly lifecycle: Lifecycle;
  /** `healthAddress`: the plaintext health-only port, when JUDGE_HEALTH_PORT is set. */
  start(): Promise<{ port: number; address: string; healthAddress?: string }>;
  stop(reason?: string): Promise<void>;
  /** `host:port` once the gRPC server is bound (it is bound before the model finishes loading). */
  readonly address: string | undefined;
  /** Loaded engine (after start). */
  readonly engine: JudgeEngine | undefined;
  /** Requested and active execution provider (after start). */
  readonly executionProvider: ExecutionProviderInfo | undefined;
  stats(): JudgeServerStats;
}

/** Which template the calibration applies to, or a warning when it fits none of this model's. */
function logCalibration(config: JudgeServerConfig, engine: JudgeEngine, logger: RuntimeLogger): void {
  const c = config.calibration;
  if (c === undefined) return;
  const names = engine.templateNames.filter((n) => engine.resolveTemplate(n)?.hash === c.templateHash);
  const fields = { hash: c.hash, temperature: c.temperature, bias: c.bias, template: c.templateName };
  if (names.length > 0) logger.info('judge calibration loaded', fields);
  else logger.warn('judge calibration matches no template of this model: scores stay raw only', fields);
}

/** The provider a model's sessions got, when the model tells (a loaded model does after its first call). */
function providerOf(model: JudgeModel<CausalLmConfig>): ExecutionProviderInfo | undefined {
  return 'executionProvider' in model ? (model as FamilyModel).executionProvider : undefined;
}

export function createJudgeServerApp(config: JudgeServerConfig, deps: JudgeServerDeps = {}): JudgeServerApp {
  const logger = deps.logger ?? createStderrLogger('judge-server', config.logLevel);
  const lifecycle = createLifecycle({ name: 'judge-server', graceTimeoutMs: config.graceTimeoutMs, logger });
  const metrics = createMetrics();
  const queueDepthGauge = metrics.upDownCounter(
    'judge_queue_depth_items',
    'items waiting in the judge queue',
  );
  const batchSizeHistogram = metrics.histogram('judge_batch_size_items', 'items per model call');
  const batchDurationHistogram = metrics.histogram('judge_batch_duration_ms', 'duration of one model call');
  const latencyHistogram = metrics.histogram('judge_latency_ms', 'item latency from enqueue to result');
  const itemsCounter = metrics.counter('judge_items_total', 'judged items by status');
  // The provider as attributes of each model load, so a CPU fallback is visible on dashboards.
  const modelLoadsCounter = metrics.counter(
    'judge_model_loads_total',
    'judge model loads by execution provider (attributes requested, active, fallback)',
  );
  const stats: JudgeServerStats = {
    batches: 0,
    itemsJudged: 0,
    maxBatchSizeSeen: 0,
    maxQueueDepthSeen: 0,
    queueDepth: 0,
  };

  let model: JudgeModel<CausalLmConfig> | undefined = deps.model;
  let ownedModel: FamilyModel | undefined;
  let engine: JudgeEngine | undefined;
  // Why the model could not load (e.g. an unsupported model_type): calls that reach the server
  // before it drains get this error under its mapped code rather than a bare INTERNAL.
  let loadError: unknown;
  /** The loaded engine, or the reason there is none as an error a caller can act on. */
  const loadedEngine = (): JudgeEngine => {
    if (engine !== undefined) return engine;
    if (loadError !== undefined) throw loadError;
    throw new VerdictError('UNAVAILABLE', 'the judge model is still loading');
  };
  let executionProvider: ExecutionProviderInfo | undefined;
  let lastDepth = 0;

  const batcher: DynamicBatcher<JudgeInput, EngineResult> = createDynamicBatcher({
    maxBatchSize: config.maxBatchSize,
    maxWaitMs: config.maxBatchWaitMs,
    maxQueueItems: config.maxQueueItems,
    run: (groupKey, inputs) => {
      const loaded = loadedEngine();
      const template = loaded.resolveTemplate(groupKey);
      if (template === undefined) throw new Error(`template ${JSON.stringify(groupKey)} was not resolved`);
      return loaded.run(template, inputs);
    },
    onBatch: (report) => {
      stats.batches++;
      stats.itemsJudged += report.size;
      stats.maxBatchSizeSeen = Math.max(stats.maxBatchSizeSeen, report.size);
      batchSizeHistogram.record(report.size);
      batchDurationHistogram.record(report.durationMs);
      deps.onBatch?.(report);
    },
    onQueueDepth: (depth) => {
      stats.queueDepth = depth;
      stats.maxQueueDepthSeen = Math.max(stats.maxQueueDepthSeen, depth);
      queueDepthGauge.add(depth - lastDepth);
      lastDepth = depth;
    },
  });

  const observers = [createGrpcMetricsObserver()];
  // Kubernetes gRPC probes cannot do TLS: with JUDGE_HEALTH_PORT a plaintext port with only
  // grpc.health.v1 reads the same status table (so it reports exactly what the TLS port would).
  const grpc = createServiceGrpcServers({
    name: 'judge-server',
    host: config.grpc.host,
    port: config.grpc.port,
    lifecycle,
    logger,
    graceTimeoutMs: config.graceTimeoutMs,
    interceptors: [createTracingServerInterceptor()],
    observers,
    tls: config.tls,
    healthPort: config.grpc.healthPort,
  });
  const { server, healthServer } = grpc;
  server.addService(
    JUDGE_SERVICE_DEFINITION,
    createJudgeServiceHandlers({
      get engine() {
        return loadedEngine();
      },
      batcher,
      maxRequestItems: config.maxRequestItems,
      maxQueueWaitMs: config.maxQueueWaitMs,
      ...(config.calibration !== undefined ? { calibration: config.calibration } : {}),
      onItemDone: (status, latencyMs) => {
        const name = judgeV1.judgeStatusToJSON(status);
        itemsCounter.add(1, { status: name });
        if (status === judgeV1.JudgeStatus.JUDGE_STATUS_OK) latencyHistogram.record(latencyMs);
      },
    }),
  );
  server.addService(
    judgeV1.JudgeInfoServiceService,
    createJudgeInfoHandlers({
      engine: () => engine,
      executionProvider: () => executionProvider,
      maxBatchSize: config.maxBatchSize,
    }),
  );
  server.health.setReady(JUDGE_SERVICE_NAME, false);

  lifecycle.register(
    telemetryComponent({
      serviceName: 'judge-server',
      otlpEndpoint: config.otlpEndpoint,
      prometheusPort: config.metricsPort,
      enabled: deps.telemetry,
    }),
  );
  // Stop order is the reverse of registration: the loader (nothing to stop), then the gRPC
  // server (in-flight calls finish, which needs the batcher), then the batcher and the model;
  // the health port last, so probes see NOT_SERVING (not a refused connection) during the drain.
  if (healthServer !== undefined) lifecycle.register(healthServer);
  lifecycle.register({
    name: 'judge-model-release',
    stop: async () => {
      await batcher.drain();
      await ownedModel?.close();
    },
  });
  lifecycle.register(server);
  lifecycle.register({
    name: 'judge-model-load',
    start: async () => {
      // Checked before loading anything: with JUDGE_EXECUTION_PROVIDER_FALLBACK=never an
      // unavailable provider fails the start with an error naming the variables.
      const resolved = await resolveExecutionProvider(
        {
          executionProvider: config.executionProvider,
          executionProviderFallback: config.executionProviderFallback,
        },
        { variable: 'JUDGE_EXECUTION_PROVIDER' },
      );
      let loaded: JudgeEngine;
      try {
        if (model === undefined) {
          // Any registered family, picked by config.json's model_type.
          ownedModel = loadModel(config.modelDir, {
            intraOpThreads: config.intraOpThreads,
            executionProvider: config.executionProvider,
            executionProviderFallback: config.executionProviderFallback,
            releaseWeightsAfterLoad: 'judge', // ORT's copy is the only one once the judge session loads
          });
          model = ownedModel;
        }
        // Resolving the templates checks the tokenizer can judge (single-token Yes/No).
        loaded = createJudgeEngine({
          model,
          modelId: config.modelId ?? basename(resolve(config.modelDir)),
          defaultTemplate: config.defaultTemplate,
          maxBatchSize: config.maxBatchSize,
        });
      } catch (error) {
        loadError = error;
        throw error;
      }
      // Warm-up creates the ONNX session, so the first real request does not pay for it and
      // readiness means "can judge now".
      await loaded.run(loaded.defaultTemplate, [{ question: 'warm up', solution: 'warm up' }]);
      // What the warmed session actually got (an injected model may not tell: then the config's).
      const provider = providerOf(model) ?? resolved;
      executionProvider = provider;
      const line = `execution provider: ${formatExecutionProvider(provider)}`;
      if (provider.fallbackReason === undefined) logger.info(line);
      else logger.warn(line, { requested: provider.requested, active: provider.active });
      modelLoadsCounter.add(1, {
        requested: provider.requested,
        active: provider.active,
        fallback: String(provider.fallbackReason !== undefined),
      });
      engine = loaded;
      server.health.setReady(JUDGE_SERVICE_NAME, true);
      logger.info('judge model loaded', {
        modelId: loaded.modelId,
        template: loaded.defaultTemplate.name,
        maxPromptTokens: loaded.maxPromptTokens.limit,
      });
      logCalibration(config, loaded, logger);
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
    get engine() {
      return engine;
    },
    get executionProvider() {
      return executionProvider;
    },
    get address() {
      try {
        return server.address;
      } catch {
        return undefined;
      }
    },
    stats: () => ({ ...stats }),
  };
}
