import {
  DatasetMissingError,
  type EvalResult,
  getSuite,
  loadSuite,
  problemCategory,
  problemOutcomes,
  SUITE_NAMES,
  type SuiteProgress,
} from '@verdict/data';
import type { evaluatorV1 } from '@verdict/proto';
import { type RuntimeLogger, serverStream, unary } from '@verdict/runtime';
import type { EvaluatorConfig } from '../config.js';
import { createEventChannel } from '../domain/event-channel.js';
import type { SuiteRunner, SuiteRunOutcome } from '../suite-runner.js';
import { parseRunSuiteRequest } from './run-suite-request.js';

/**
 * Wire report. The proto defines `greedy_accuracy` (and `maj_at_k`, `mean_at_k`, per category too)
 * with flexible extraction; `strict` and `flexible` carry both. The JSON report keeps strict as
 * headline. `problems` carries each question's outcome in suite order, so callers can pair runs.
 */
export function toSuiteReport(outcome: SuiteRunOutcome): evaluatorV1.SuiteReport {
  const r: EvalResult = outcome.result;
  const perCategory: Record<string, evaluatorV1.CategoryScore> = {};
  for (const [name, c] of Object.entries(r.per_category)) {
    perCategory[name] = {
      n: BigInt(c.n),
      greedyAccuracy: c.flexible.accuracy,
      ...(c.flexible.maj_at_k !== null ? { majAtK: c.flexible.maj_at_k } : {}),
      strict: c.strict.accuracy,
      flexible: c.flexible.accuracy,
    };
  }
  return {
    suite: r.suite,
    n: BigInt(r.n),
    greedyAccuracy: r.flexible.accuracy,
    ...(r.flexible.maj_at_k !== null ? { majAtK: r.flexible.maj_at_k } : {}),
    ...(r.flexible.mean_at_k !== null ? { meanAtK: r.flexible.mean_at_k } : {}),
    k: r.k ?? 0,
    strict: r.strict.accuracy,
    flexible: r.flexible.accuracy,
    perCategory,
    model: { modelId: outcome.modelId, version: outcome.policyVersion },
    startedAt: new Date(r.started_at),
    finishedAt: new Date(r.finished_at),
    problems: problemOutcomes(outcome.items, {
      mode: 'flexible',
      ...(r.k !== null ? { k: r.k } : {}),
    }).map((o) => ({
      id: o.id,
      greedyCorrect: o.greedyCorrect,
      samples: o.samples,
      samplesCorrect: o.samplesCorrect,
      ...(o.majAtK !== null ? { majAtK: o.majAtK } : {}),
    })),
  };
}

function toProgress(p: SuiteProgress): evaluatorV1.Progress {
  return { done: BigInt(p.done), total: BigInt(p.total), runningAccuracy: p.runningFlexible };
}

/** Suites whose datasets are present here (a missing dataset is left out, not an error). */
function listSuites(logger: RuntimeLogger): evaluatorV1.SuiteInfo[] {
  const out: evaluatorV1.SuiteInfo[] = [];
  for (const name of SUITE_NAMES) {
    try {
      const suite = getSuite(name);
      const problems = loadSuite(name);
      const categories = new Set<string>();
      for (const p of problems) {
        const c = problemCategory(suite, p);
        if (c !== undefined) categories.add(c);
      }
      out.push({
        suite: name,
        description: suite.description,
        size: BigInt(problems.length),
        categories: [...categories].sort(),
      });
    } catch (e) {
      if (!(e instanceof DatasetMissingError)) throw e;
      logger.warn('suite unavailable: dataset missing', { suite: name, error: e.message });
    }
  }
  return out;
}

/** gRPC handlers of verdict.evaluator.v1.EvaluatorService. */
export function createEvaluatorHandlers(config: EvaluatorConfig, runner: SuiteRunner, logger: RuntimeLogger) {
  let suites: evaluatorV1.SuiteInfo[] | undefined;
  return {
    runSuite: serverStream<evaluatorV1.RunSuiteRequest, evaluatorV1.RunSuiteResponse>(
      async function* (req, ctx) {
        const spec = parseRunSuiteRequest(req, config);
        const progress = createEventChannel<SuiteProgress>();
        const running = runner.run(spec, { onProgress: (p) => progress.push(p), signal: ctx.signal }).then(
          (outcome) => {
            progress.close();
            return outcome;
          },
          (error: unknown) => {
            progress.fail(error);
            throw error;
          },
        );
        running.catch(() => {}); // surfaced through the channel
        for await (const p of progress) yield { progress: toProgress(p) };
        const outcome = await running;
        const written = runner.writeReports([outcome]);
        logger.info('RunSuite report written', {
          suite: spec.suite,
          runId: written.runId,
          html: written.html,
        });
        yield { report: toSuiteReport(outcome) };
      },
    ),
    listSuites: unary<evaluatorV1.ListSuitesRequest, evaluatorV1.ListSuitesResponse>(() => {
      suites ??= listSuites(logger);
      return { suites };
    }),
  };
}
