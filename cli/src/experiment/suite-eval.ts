import { evaluatorV1 } from '@verdict/proto';
import type { SuiteScore } from '@verdict/recipes';
import { createGrpcClient } from '@verdict/runtime';

/**
 * Final evaluation of whatever the arm's policy-server serves, through the evaluator's `RunSuite`:
 * the first `limit` problems of the suite, greedy (flexible extraction, as the wire defines it),
 * mean@k and maj@k from `samples` seeded samples, and every problem's scores in suite order (what
 * two arms are paired on).
 */
export async function evaluateSuite(o: {
  evaluatorAddress: string;
  suite: string;
  limit: number;
  samples: number;
  temperature: number;
  seed: number;
  maxNewTokens: number;
}): Promise<SuiteScore> {
  const client = createGrpcClient(evaluatorV1.EvaluatorServiceClient, o.evaluatorAddress, {
    defaultDeadlineMs: 1_800_000,
  });
  try {
    let report: evaluatorV1.SuiteReport | undefined;
    for await (const r of client.serverStream('runSuite', {
      suite: o.suite,
      limit: BigInt(o.limit),
      samples: o.samples,
      sampling: {
        temperature: o.temperature,
        topP: 1,
        topK: 0,
        seed: BigInt(o.seed),
        maxNewTokens: o.maxNewTokens,
        stopTokenIds: [],
        stopStrings: [],
      },
      policyTarget: '',
    })) {
      if (r.report) report = r.report;
    }
    if (report === undefined) throw new Error(`evaluator sent no report for ${o.suite}`);
    const sampled = report.k > 1;
    return {
      suite: o.suite,
      n: Number(report.n),
      greedy: report.greedyAccuracy,
      majAtK: report.majAtK ?? Number.NaN,
      meanAtK: report.meanAtK ?? Number.NaN,
      k: report.k,
      policyVersion: Number(report.model?.version ?? 0n),
      problems: {
        ids: report.problems.map((p) => p.id),
        greedy: report.problems.map((p) => (p.greedyCorrect ? 1 : 0)),
        meanAtK: sampled
          ? report.problems.map((p) => (p.samples > 0 ? p.samplesCorrect / p.samples : 0))
          : [],
        majAtK: sampled ? report.problems.map((p) => p.majAtK ?? 0) : [],
      },
    };
  } finally {
    client.close();
  }
}
