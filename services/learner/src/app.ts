import { resolve } from 'node:path';
import { learnerV1 } from '@verdict/proto';
import { type ExecutionProviderInfo, formatExecutionProvider, resolveExecutionProvider } from '@verdict/rl';
import {
  connectMessaging,
  createGrpcMetricsObserver,
  createLifecycle,
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
import type { LearnerConfig } from './config.js';
import { hasRunDir, ScoredInbox } from './consumers/scored-inbox.js';
import { createLearnerServiceHandlers } from './rpc/learner-service.js';
import { createEvaluatorClient, type Evaluate } from './run/evaluation.js';
import type { AfterStepHook, RunController } from './run/run-controller.js';
import { RunManager } from './run/run-manager.js';
import { RunStore } from './run/run-store.js';
import { loadRunConfigFile, type ValidRunConfig } from './run-config/run-config.js';
import { ROLLOUTS_STREAM, scoredConsumerSpec, WEIGHTS_STREAM } from './streams.js';
import type { TrainStep } from './training/policy-trainer.js';

export const LEARNER_SERVICE_NAME = 'verdict.learner.v1.LearnerService';

export interface LearnerDeps {
  readonly logger?: RuntimeLogger;
  /** Start OpenTelemetry (default: only when an OTLP endpoint or metrics port is configured). */
  readonly telemetry?: boolean;
  /** Awaited after each completed step, before the next step's requests (in-process orchestration). */
  readonly afterStep?: AfterStepHook;
  /**
   * Periodic evaluation in-process (tests, embedded orchestration); default: the evaluator at
   * LEARNER_EVALUATOR_ADDRESS when one is configured.
   */
  readonly evaluate?: Evaluate;
  /** Replace the Training engine (tests). */
  readonly createTrainer?: (run: ValidRunConfig, resume: { dir: string } | undefined) => TrainStep;
}

export interface LearnerApp {
  readonly lifecycle: Lifecycle;
  /** `healthAddress`: the plaintext health-only port, when LEARNER_HEALTH_PORT is set. */
  start(): Promise<{ port: number; address: string; healthAddress?: string }>;
  stop(reason?: string): Promise<void>;
  readonly runs: RunManager | undefined;
  /** Requested and active execution provider of the training sessions (after start). */
  readonly executionProvider: ExecutionProviderInfo | undefined;
  /** Starts (or resumes) a run in-process, as StartRun does. */
  startRun(config: ValidRunConfig, resume?: boolean): RunController;
}

export function createLearnerApp(config: LearnerConfig, deps: LearnerDeps = {}): LearnerApp {
  const logger = deps.logger ?? createStderrLogger('learner', config.logLevel);
  const lifecycle = createLifecycle({ name: 'learner', graceTimeoutMs: config.graceTimeoutMs, logger });
  const runsDir = resolve(config.runsDir);
  const inbox = new ScoredInbox({
    logger,
    isFinished: (runId) => RunStore.isCompleted(runsDir, runId),
    isKnown: (runId) => hasRunDir(runsDir, runId),
    maxMessageBytes: config.maxScoredMessageBytes,
  });
  let messaging: Messaging | undefined;
  let runs: RunManager | undefined;
  const consumeAbort = new AbortController();
  let consuming: Promise<unknown> | undefined;
  let closeEvaluator: (() => void) | undefined;
  let executionProvider: ExecutionProviderInfo | undefined;

  // First to start: with LEARNER_EXECUTION_PROVIDER_FALLBACK=never an unavailable provider fails
  // the start (naming the variables) before NATS or gRPC; otherwise one line says what runs where.
  lifecycle.register({
    name: 'execution-provider',
    start: async () => {
      const info = await resolveExecutionProvider(
        {
          executionProvider: config.executionProvider,
          executionProviderFallback: config.executionProviderFallback,
        },
        { variable: 'LEARNER_EXECUTION_PROVIDER' },
      );
      executionProvider = info;
      const line = `execution provider: ${formatExecutionProvider(info)}`;
      if (info.fallbackReason === undefined) logger.info(line);
      else logger.warn(line, { requested: info.requested, active: info.active });
    },
  });

  // TLS per LEARNER_TLS_*; with LEARNER_HEALTH_PORT a plaintext health-only port for probes.
  const grpc = createServiceGrpcServers({
    name: 'learner',
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
  // Registered before the rest, so it stops after them: probes see NOT_SERVING while draining.
  if (healthServer !== undefined) lifecycle.register(healthServer);
  server.addService(
    learnerV1.LearnerServiceService,
    createLearnerServiceHandlers({
      get: (id: string) => requireRuns().get(id),
      start: (c: ValidRunConfig, r: boolean) => requireRuns().start(c, r),
    }),
  );
  server.health.setReady(LEARNER_SERVICE_NAME, false);

  function requireRuns(): RunManager {
    if (runs === undefined) throw new Error('learner is not started');
    return runs;
  }

  lifecycle.register(
    telemetryComponent({ serviceName: 'learner', ...config.telemetry, enabled: deps.telemetry }),
  );
  // Stop order is the reverse: runs finish their step (and checkpoint) before NATS closes.
  lifecycle.register({
    name: 'nats',
    start: async () => {
      messaging = await connectMessaging({
        servers: config.natsUrl,
        name: 'learner',
        headerHooks: natsTraceHooks,
        ...natsConnectOptionsFromConfig(config.natsConnection),
        logger,
      });
      await messaging.ensureStream(ROLLOUTS_STREAM);
      await messaging.ensureStream(WEIGHTS_STREAM);
      await messaging.ensureConsumer(
        scoredConsumerSpec(config.scoredConsumer, config.ackWaitMs, config.maxHeldRollouts),
      );
    },
    stop: async () => {
      consumeAbort.abort();
      await consuming;
      await messaging?.close();
    },
  });
  lifecycle.register(server);
  lifecycle.register({
    name: 'runs',
    start: async () => {
      const m = messaging!;
      const client =
        deps.evaluate !== undefined || config.evaluatorAddress === undefined
          ? undefined
          : createEvaluatorClient(config.evaluatorAddress, config.evalDeadlineMs, config.evaluatorTls);
      if (client !== undefined) {
        logger.info(
          `evaluator client: ${grpcClientTransportOf(config.evaluatorTls)} to ${config.evaluatorAddress}`,
        );
      }
      closeEvaluator = client?.close;
      const evaluate = deps.evaluate ?? client;
      runs = new RunManager({
        runsDir,
        ...(config.dataDir ? { dataDir: config.dataDir } : {}),
        messaging: m,
        inbox,
        logger,
        intraOpThreads: config.intraOpThreads,
        sessions: {
          executionProvider: config.executionProvider,
          executionProviderFallback: config.executionProviderFallback,
        },
        ...(evaluate ? { evaluate, evalLimit: config.evalLimit } : {}),
        ...(deps.createTrainer ? { createTrainer: deps.createTrainer } : {}),
        ...(deps.afterStep ? { afterStep: deps.afterStep } : {}),
      });
      consuming = m
        .consume({
          stream: ROLLOUTS_STREAM.name,
          consumer: config.scoredConsumer,
          handler: inbox.handler,
          concurrency: config.maxHeldRollouts,
          signal: consumeAbort.signal,
        })
        .catch((error: unknown) => logger.error('scored-rollout consumer stopped', { error }));
      if (config.runConfigFile !== undefined) runs.start(loadRunConfigFile(config.runConfigFile), true);
      server.health.setReady(LEARNER_SERVICE_NAME, true);
    },
    stop: async () => {
      await runs?.stopAll('learner shutting down');
      closeEvaluator?.();
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
    get runs() {
      return runs;
    },
    get executionProvider() {
      return executionProvider;
    },
    startRun(runConfig, resume = true) {
      return requireRuns().start(runConfig, resume);
    },
  };
}
