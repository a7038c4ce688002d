import {
  type EvalResult,
  runSuiteEval,
  type SampledItem,
  type SuiteProgress,
  type WrittenReports,
  writeRunReports,
} from '@verdict/data';
import { policyV1 } from '@verdict/proto';
import {
  createGrpcClient,
  createTracingClientInterceptor,
  grpcClientSecurity,
  type RuntimeLogger,
  VerdictError,
} from '@verdict/runtime';
import type { EvaluatorConfig } from './config.js';
import { createPolicyGenerator, type PolicyClient } from './policy-generator.js';

/** One suite run as validated from a RunSuite request or the nightly config. */
export interface RunSpec {
  readonly suite: string;
  /** undefined = all questions. */
  readonly limit?: number;
  /** maj@k samples (k = samples); 0 = greedy only. */
  readonly samples: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly seed: number;
  readonly maxNewTokens: number;
  /** Policy-server address; the configured default when undefined. */
  readonly policyTarget?: string;
}

export interface SuiteRunOutcome {
  readonly result: EvalResult;
  readonly items: SampledItem[];
  readonly modelId: string;
  /** Last weights version that generated an answer (0 when none did). */
  readonly policyVersion: bigint;
}

export interface SuiteRunner {
  run(
    spec: RunSpec,
    hooks?: { onProgress?: (p: SuiteProgress) => void; signal?: AbortSignal },
  ): Promise<SuiteRunOutcome>;
  /** Writes one run's reports (results JSON, history line per suite, HTML) into the report folder. */
  writeReports(outcomes: readonly SuiteRunOutcome[]): WrittenReports;
  close(): void;
}

/**
 * The policy-server's rule on top_k (at most its vocabulary, from GetModelInfo), checked before any
 * prompt is sent: otherwise it refuses every prompt. Its own max_new_tokens limit is not in
 * GetModelInfo; a request over it fails the run with the server's INVALID_ARGUMENT (see
 * policy-generator.ts). max_new_tokens past the context is not an error: generation stops there.
 */
function checkSpecAgainstModel(spec: RunSpec, info: policyV1.GetModelInfoResponse): void {
  if (info.vocabSize > 0 && spec.topK > info.vocabSize) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `sampling.top_k: must be <= the policy model's vocabulary size ${info.vocabSize} (0 = off), got ${spec.topK}`,
      { field: 'sampling.top_k' },
    );
  }
}

export interface SuiteRunnerDeps {
  readonly logger: RuntimeLogger;
  /** Clients by target; default createGrpcClient with tracing. Tests inject nothing: real servers run on port 0. */
  readonly createClient?: (target: string) => PolicyClient;
}

/**
 * The evaluator's core: a policy-server client per target, the shared harness (`runSuiteEval`
 * from @verdict/data, the same one `verdict eval` runs) and the report writer.
 */
export function createSuiteRunner(config: EvaluatorConfig, deps: SuiteRunnerDeps): SuiteRunner {
  const clients = new Map<string, PolicyClient>();
  const policySecurity = grpcClientSecurity(config.policyTls);
  const clientFor = (target: string): PolicyClient => {
    let client = clients.get(target);
    if (client === undefined) {
      client =
        deps.createClient?.(target) ??
        createGrpcClient(policyV1.PolicyServiceClient, target, {
          // EVALUATOR_POLICY_TLS_* (checked at config load): the same for every allowed target.
          credentials: policySecurity.credentials,
          channelOptions: policySecurity.channelOptions,
          defaultDeadlineMs: config.generateTimeoutMs,
          idempotentMethods: ['getModelInfo'],
          interceptors: [createTracingClientInterceptor()],
        });
      clients.set(target, client);
    }
    return client;
  };

  return {
    async run(spec, hooks = {}) {
      const target = spec.policyTarget ?? config.policyTarget;
      const client = clientFor(target);
      const info = await client.unary(
        'getModelInfo',
        {},
        { deadlineMs: Math.min(30_000, config.generateTimeoutMs) },
      );
      if (!info.ready) {
        throw new VerdictError(
          'UNAVAILABLE',
          `policy-server ${target} is not ready (model ${info.model?.modelId ?? '?'})`,
        );
      }
      checkSpecAgainstModel(spec, info);
      const modelId = info.model?.modelId || target;
      let rejected = 0;
      const generator = createPolicyGenerator(client, {
        maxNewTokens: spec.maxNewTokens,
        generateTimeoutMs: config.generateTimeoutMs,
        modelId,
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        onPromptRejected: (id, error) => {
          rejected++;
          deps.logger.warn('policy-server rejected a prompt; scored as no answer', {
            problemId: id,
            error: error.message,
          });
        },
      });
      const { result, items } = await runSuiteEval({
        suite: spec.suite,
        generator,
        samples: spec.samples,
        temperature: spec.temperature,
        topP: spec.topP,
        topK: spec.topK,
        seed: spec.seed,
        batchSize: config.batchSize,
        ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
        ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      });
      if (result.n > 0 && rejected >= result.n && generator.versionsSeen.size === 0) {
        // Nothing was generated: a report of accuracy 0 would claim work that was not done.
        throw new VerdictError(
          'FAILED_PRECONDITION',
          `the policy-server at ${target} rejected every prompt (${rejected} of ${result.n}); see the evaluator log for why`,
          { details: { rejected, n: result.n } },
        );
      }
      if (generator.versionsSeen.size > 1) {
        deps.logger.warn('weights changed during the run', {
          suite: spec.suite,
          versions: result.model_version,
        });
      }
      deps.logger.info('suite done', {
        suite: result.suite,
        n: result.n,
        strict: result.strict.accuracy,
        flexible: result.flexible.accuracy,
        majAtK: result.maj_at_k,
        rejectedPrompts: rejected,
        model: modelId,
        version: result.model_version,
      });
      // The newest version that answered (bigint: no Math.max).
      let policyVersion = generator.versionsSeen.size === 0 ? (info.model?.version ?? 0n) : 0n;
      for (const v of generator.versionsSeen) if (v > policyVersion) policyVersion = v;
      return { result, items, modelId, policyVersion };
    },
    writeReports(outcomes) {
      return writeRunReports({
        outDir: config.reportDir,
        results: outcomes.map((o) => o.result),
        items: Object.fromEntries(outcomes.map((o) => [o.result.suite, o.items])),
      });
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
