import { evaluatorV1 } from '@verdict/proto';
import {
  createGrpcClient,
  createTracingClientInterceptor,
  type GrpcClientTlsConfig,
  grpcClientSecurity,
} from '@verdict/runtime';

/** One suite's result at an evaluation step. */
export interface EvalScore {
  readonly suite: string;
  readonly n: number;
  readonly greedyAccuracy: number;
  /** Weights version the evaluator's policy-server generated with. */
  readonly policyVersion: number;
}

/** Runs the given suites (first `limit` problems each) and returns their scores. */
export type Evaluate = (suites: readonly string[], limit: number) => Promise<EvalScore[]>;

/**
 * Evaluation through the evaluator's `RunSuite` (it generates through a policy-server). `tls`:
 * LEARNER_EVALUATOR_TLS_* (checked at config load); undefined or off = plaintext.
 */
export function createEvaluatorClient(
  address: string,
  deadlineMs: number,
  tls?: GrpcClientTlsConfig,
): Evaluate & { close(): void } {
  const security = grpcClientSecurity(tls);
  const client = createGrpcClient(evaluatorV1.EvaluatorServiceClient, address, {
    credentials: security.credentials,
    channelOptions: security.channelOptions,
    defaultDeadlineMs: deadlineMs,
    interceptors: [createTracingClientInterceptor()],
  });
  const evaluate = async (suites: readonly string[], limit: number): Promise<EvalScore[]> => {
    const out: EvalScore[] = [];
    for (const suite of suites) {
      let report: evaluatorV1.SuiteReport | undefined;
      for await (const r of client.serverStream('runSuite', {
        suite,
        limit: BigInt(limit),
        samples: 0,
        policyTarget: '',
      })) {
        if (r.report) report = r.report;
      }
      if (report === undefined) throw new Error(`evaluator sent no report for ${suite}`);
      out.push({
        suite,
        n: Number(report.n),
        greedyAccuracy: report.greedyAccuracy,
        policyVersion: Number(report.model?.version ?? 0n),
      });
    }
    return out;
  };
  return Object.assign(evaluate, { close: () => client.close() });
}
