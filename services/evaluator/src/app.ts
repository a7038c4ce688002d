import { accessSync, constants, mkdirSync } from 'node:fs';
import { type EvalResult, formatSuiteProgress, type WrittenReports } from '@verdict/data';
import { evaluatorV1 } from '@verdict/proto';
import {
  createGrpcMetricsObserver,
  createLifecycle,
  createServiceGrpcServers,
  createStderrLogger,
  createTracingServerInterceptor,
  type GrpcServer,
  type Lifecycle,
  type RuntimeLogger,
  startTelemetry,
  VerdictError,
} from '@verdict/runtime';
import type { EvaluatorConfig } from './config.js';
import type { PolicyClient } from './policy-generator.js';
import { createEvaluatorHandlers } from './rpc/evaluator-rpc.js';
import { createSuiteRunner, type SuiteRunOutcome } from './suite-runner.js';

export const EVALUATOR_SERVICE_NAME = 'verdict.evaluator.v1.EvaluatorService';

export interface EvaluatorAppDeps {
  readonly logger?: RuntimeLogger;
  /** Policy-server client factory (default: grpc-js client with tracing). */
  readonly createPolicyClient?: (target: string) => PolicyClient;
  /** Telemetry off (tests). Default: on when OTLP endpoint or metrics port is configured. */
  readonly telemetry?: boolean;
}

export interface NightlyOutcome {
  /** True when every configured suite ran and its reports were written. */
  readonly ok: boolean;
  readonly results: readonly EvalResult[];
  readonly failures: readonly { suite: string; error: string }[];
  readonly reports?: WrittenReports;
}

export interface EvaluatorApp {
  readonly lifecycle: Lifecycle;
  /**
   * Starts the gRPC server; resolves with its bound port/address once SERVING (`healthAddress`:
   * the plaintext health-only port, when EVALUATOR_HEALTH_PORT is set).
   */
  start(): Promise<{ port: number; address: string; healthAddress?: string }>;
  stop(reason?: string): Promise<void>;
  /** The nightly CronJob mode: every configured suite, one run id, reports written. No gRPC server. */
  runOnce(): Promise<NightlyOutcome>;
}

/** Ready only when the report folder exists and is writable: a run must be able to end in a report. */
function checkReportDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new VerdictError(
      'FAILED_PRECONDITION',
      `EVALUATOR_REPORT_DIR ${dir} is not writable: ${(e as Error).message}`,
      {
        field: 'EVALUATOR_REPORT_DIR',
      },
    );
  }
}

export function createEvaluatorApp(config: EvaluatorConfig, deps: EvaluatorAppDeps = {}): EvaluatorApp {
  const logger = deps.logger ?? createStderrLogger('evaluator', config.logLevel);
  const lifecycle = createLifecycle({ name: 'evaluator', logger });
  const runner = createSuiteRunner(config, {
    logger,
    ...(deps.createPolicyClient ? { createClient: deps.createPolicyClient } : {}),
  });
  let server: GrpcServer | undefined;

  const telemetryOn =
    deps.telemetry ?? (config.otlpEndpoint !== undefined || config.metricsPort !== undefined);
  const telemetry = startTelemetry({
    serviceName: 'evaluator',
    enabled: telemetryOn,
    ...(config.otlpEndpoint !== undefined ? { otlpEndpoint: config.otlpEndpoint } : {}),
    ...(config.metricsPort !== undefined ? { prometheusPort: config.metricsPort } : {}),
  });
  lifecycle.onShutdown('telemetry', async () => (await telemetry).shutdown());
  lifecycle.onShutdown('policy-clients', () => runner.close());

  return {
    lifecycle,
    async start() {
      checkReportDir(config.reportDir);
      // TLS per EVALUATOR_TLS_*; with EVALUATOR_HEALTH_PORT a plaintext health-only port for
      // probes, registered first so it stops last (probes see NOT_SERVING while draining).
      const grpc = createServiceGrpcServers({
        name: 'evaluator-grpc',
        host: config.grpc.host,
        port: config.grpc.port,
        lifecycle,
        logger,
        interceptors: [createTracingServerInterceptor()],
        observers: [createGrpcMetricsObserver()],
        tls: config.tls,
        healthPort: config.grpc.healthPort,
      });
      server = grpc.server;
      server.addService(evaluatorV1.EvaluatorServiceService, createEvaluatorHandlers(config, runner, logger));
      server.health.setReady(EVALUATOR_SERVICE_NAME, true);
      if (grpc.healthServer !== undefined) lifecycle.register(grpc.healthServer);
      lifecycle.register(server);
      grpc.logTransport();
      await lifecycle.start();
      logger.info('evaluator serving', { address: server.address, reportDir: config.reportDir });
      const healthAddress = grpc.healthAddress;
      return {
        port: server.port,
        address: server.address,
        ...(healthAddress !== undefined ? { healthAddress } : {}),
      };
    },
    async stop(reason = 'stop requested') {
      await lifecycle.stop(reason);
    },
    async runOnce() {
      checkReportDir(config.reportDir);
      const outcomes: SuiteRunOutcome[] = [];
      const failures: { suite: string; error: string }[] = [];
      for (const suite of config.nightly.suites) {
        let lastLogMs = -Infinity;
        try {
          const outcome = await runner.run(
            {
              suite,
              ...(config.nightly.limit > 0 ? { limit: config.nightly.limit } : {}),
              samples: config.nightly.samples <= 1 ? 0 : config.nightly.samples,
              temperature: config.nightly.temperature,
              topP: 1,
              topK: 0,
              seed: config.nightly.seed,
              maxNewTokens: config.maxNewTokens,
            },
            {
              onProgress: (p) => {
                if (p.done < p.total && p.elapsedMs - lastLogMs < 10_000) return;
                lastLogMs = p.elapsedMs;
                logger.info(formatSuiteProgress(p));
              },
            },
          );
          outcomes.push(outcome);
        } catch (e) {
          // One failing suite must not cost the others their numbers; the exit code reports it.
          const message = e instanceof Error ? e.message : String(e);
          logger.error('suite failed', { suite, error: message });
          failures.push({ suite, error: message });
        }
      }
      const reports = outcomes.length > 0 ? runner.writeReports(outcomes) : undefined;
      if (reports)
        logger.info('reports written', { runId: reports.runId, html: reports.html, json: reports.json });
      runner.close();
      await (await telemetry).shutdown();
      return {
        ok: failures.length === 0,
        results: outcomes.map((o) => o.result),
        failures,
        ...(reports ? { reports } : {}),
      };
    },
  };
}
