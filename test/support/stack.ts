// The end-to-end tests start their stacks with the one launcher (`@verdict/cli/stack`, the same
// code `verdict up` and the experiment use). This file only holds the tests' defaults.
import { join } from 'node:path';
import type { ResolvedStackOptions, SkippableService } from '@verdict/cli/stack';
import { silentLogger } from '@verdict/runtime';

export interface ToyStackInput {
  /** nats-server URL or `mem://NAME`; the test owns the server. */
  readonly natsUrl: string;
  readonly studentDir: string;
  readonly judgeDir: string;
  /** Runs and reports go under it. */
  readonly workDir: string;
  readonly policyReplicas?: number;
  readonly skip?: readonly SkippableService[];
}

/**
 * Loopback, λ = μ = 0.5 (the learner's run config must agree), the judge asked about labeled
 * samples too (agreement metrics), small policy batches, quick stale retries, 8 problems per
 * periodic evaluation, and silent services.
 */
export function toyStackOptions(o: ToyStackInput): ResolvedStackOptions {
  return {
    messaging: { url: o.natsUrl },
    studentDir: o.studentDir,
    judgeDir: o.judgeDir,
    runsDir: join(o.workDir, 'runs'),
    reportDir: join(o.workDir, 'reports'),
    policyReplicas: o.policyReplicas ?? 1,
    reward: { lambdaVr: 0.5, muJudge: 0.5, judgeOnLabeled: true },
    ...(o.skip !== undefined ? { skip: o.skip } : {}),
    logger: silentLogger,
    policy: { maxBatchSize: 8, staleRetryDelayMs: 200 },
    learner: { evalLimit: 8 },
  };
}
