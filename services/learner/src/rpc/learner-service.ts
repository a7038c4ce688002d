import { learnerV1 } from '@verdict/proto';
import { serverStream, unary, VerdictError } from '@verdict/runtime';
import type { StepMetricsRecord } from '../domain/step-metrics.js';
import type { RunManager } from '../run/run-manager.js';
import { validateRunConfig } from '../run-config/run-config.js';
import { runStatusToProto, stepMetricsToProto } from './metrics-proto.js';

/** Run ids are at most this long (the run config's `run_id` pattern allows 64 characters). */
export const RUN_ID_MAX_CHARS = 64;
/** StopRun's `reason` is kept in the run's status: at most this many characters. */
export const STOP_REASON_MAX_CHARS = 256;

function requireRunId(runId: string): string {
  if (runId === '') throw new VerdictError('INVALID_ARGUMENT', 'run_id is required', { field: 'run_id' });
  if (runId.length > RUN_ID_MAX_CHARS)
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `run_id must be at most ${RUN_ID_MAX_CHARS} characters (got ${runId.length})`,
      { field: 'run_id' },
    );
  return runId;
}

/** gRPC handlers of verdict.learner.v1.LearnerService over the run manager. */
export function createLearnerServiceHandlers(runs: Pick<RunManager, 'get' | 'start'>) {
  return {
    startRun: unary(async (req: learnerV1.StartRunRequest) => {
      if (req.config === undefined) {
        throw new VerdictError('INVALID_ARGUMENT', 'config is required', { field: 'config' });
      }
      const config = validateRunConfig(req.config);
      const run = runs.start(config, req.resume);
      return learnerV1.StartRunResponse.fromPartial({ status: runStatusToProto(run.status()) });
    }),
    stopRun: unary(async (req: learnerV1.StopRunRequest) => {
      const run = runs.get(requireRunId(req.runId));
      if (req.reason.length > STOP_REASON_MAX_CHARS)
        throw new VerdictError(
          'INVALID_ARGUMENT',
          `reason must be at most ${STOP_REASON_MAX_CHARS} characters (got ${req.reason.length})`,
          { field: 'reason' },
        );
      run.requestStop(req.reason || 'StopRun');
      return learnerV1.StopRunResponse.fromPartial({ status: runStatusToProto(run.status()) });
    }),
    getRunStatus: unary(async (req: learnerV1.GetRunStatusRequest) => {
      const run = runs.get(requireRunId(req.runId));
      return learnerV1.GetRunStatusResponse.fromPartial({ status: runStatusToProto(run.status()) });
    }),
    streamMetrics: serverStream(async function* (req: learnerV1.StreamMetricsRequest, ctx) {
      const run = runs.get(requireRunId(req.runId));
      const from = Number(req.fromStep);
      // Subscribe before reading history so no step falls between the two.
      const queue: (StepMetricsRecord | undefined)[] = [];
      let notify: (() => void) | undefined;
      const unsubscribe = run.subscribe((m) => {
        queue.push(m);
        notify?.();
      });
      try {
        let last = from - 1;
        for (const m of run.metricsFrom(from)) {
          last = m.step;
          yield learnerV1.StreamMetricsResponse.fromPartial({ metrics: stepMetricsToProto(m) });
        }
        if (run.isTerminal && queue.length === 0) return;
        while (!ctx.signal.aborted) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => {
              notify = resolve;
              ctx.signal.addEventListener('abort', () => resolve(), { once: true });
            });
            notify = undefined;
            continue;
          }
          const m = queue.shift();
          if (m === undefined) return;
          if (m.step <= last) continue;
          last = m.step;
          yield learnerV1.StreamMetricsResponse.fromPartial({ metrics: stepMetricsToProto(m) });
        }
      } finally {
        unsubscribe();
      }
    }),
  };
}
