// The one translation of typed stack options into each service's configuration. A service's
// config.ts stays the only schema (and the only reader of process.env): the stack hands it the
// variables its Deployment would set, so an in-process service and a child process started by a
// test with `{ ...process.env, ...rewardServiceEnv(o, judge) }` are validated by the same rules.
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { RewardWeights, StackOptions } from './stack-options.js';

export type ServiceEnv = Record<string, string>;

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_REWARD_WEIGHTS: Required<RewardWeights> = { lambdaVr: 0.5, muJudge: 0.5, rhoRerank: 0 };

/** The messaging URL every service gets as NATS_URL (resolved by startStack; `{ url }` as given). */
export type ResolvedStackOptions = StackOptions & { readonly messaging: { readonly url: string } };

const str = (v: number | boolean | string | undefined, name: string): ServiceEnv =>
  v === undefined ? {} : { [name]: String(v) };

/** Sequences a policy replica of the stack decodes together unless the options say otherwise. */
export const DEFAULT_POLICY_MAX_BATCH_SIZE = 64;

/** Intra-op threads of one model-running service: its own option, the stack's, else every core. */
function threads(o: StackOptions, own: number | undefined): number {
  return own ?? o.threads ?? availableParallelism();
}

/**
 * Students whose safetensors are at most this size decode on one single-threaded session replica
 * per core: small matmuls gain little from intra-op threads, and n replicas decoding concurrent
 * sub-batches avoid the per-op synchronisation (measured on 2 cores, toy student, 64 rows × 96
 * tokens: 1 replica × 2 threads 1.06 s, 2 replicas × 1 thread 0.78 s). Bigger students keep one
 * copy of their weights (each replica holds its own) and use the threads.
 */
export const SMALL_STUDENT_BYTES = 64 * 1024 * 1024;

function weightsBytes(modelDir: string): number {
  try {
    return readdirSync(modelDir)
      .filter((f) => f.endsWith('.safetensors'))
      .reduce((sum, f) => sum + statSync(join(modelDir, f)).size, 0);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Threads and session replicas of the policy: explicit options win, else by the student's size. */
export function policySessionLayout(o: StackOptions): { threads: number; replicas: number } {
  const p = o.policy;
  const cores = threads(o, undefined);
  const small = weightsBytes(o.studentDir) <= SMALL_STUDENT_BYTES;
  const replicas = p?.sessionReplicas ?? (small && p?.intraOpThreads === undefined ? cores : 1);
  return { threads: p?.intraOpThreads ?? (replicas > 1 ? 1 : cores), replicas };
}

function base(o: StackOptions): ServiceEnv {
  return { LOG_LEVEL: o.logLevel ?? 'warn' };
}

function grpc(o: StackOptions, prefix: string): ServiceEnv {
  return { [`${prefix}_HOST`]: o.host ?? DEFAULT_HOST, [`${prefix}_PORT`]: '0' };
}

export function judgeServerEnv(o: StackOptions): ServiceEnv {
  return {
    ...base(o),
    ...grpc(o, 'JUDGE'),
    JUDGE_MODEL_DIR: o.judgeDir,
    ...str(o.judge?.modelId, 'JUDGE_MODEL_ID'),
    ...str(o.judge?.maxBatchSize, 'JUDGE_MAX_BATCH_SIZE'),
    JUDGE_INTRA_OP_THREADS: String(threads(o, o.judge?.intraOpThreads)),
  };
}

/** `weights` overrides the options' reward weights (a restarted reward-service with a lowered μ). */
export function rewardServiceEnv(
  o: ResolvedStackOptions,
  judgeAddress: string,
  weights: RewardWeights = o.reward ?? DEFAULT_REWARD_WEIGHTS,
): ServiceEnv {
  return {
    ...base(o),
    ...grpc(o, 'REWARD'),
    NATS_URL: o.messaging.url,
    JUDGE_ADDRESS: judgeAddress,
    REWARD_LAMBDA_VR: String(weights.lambdaVr),
    REWARD_MU_JUDGE: String(weights.muJudge),
    REWARD_RHO_RERANK: String(weights.rhoRerank ?? 0),
    ...str(o.reward?.judgeOnLabeled, 'REWARD_JUDGE_ON_LABELED'),
  };
}

export function policyServerEnv(o: ResolvedStackOptions, replica: number): ServiceEnv {
  const p = o.policy;
  const layout = policySessionLayout(o);
  return {
    ...base(o),
    ...grpc(o, 'POLICY'),
    NATS_URL: o.messaging.url,
    POLICY_MODEL_DIR: o.studentDir,
    POLICY_INSTANCE_ID: `${p?.instanceIdPrefix ?? 'policy-'}${replica}`,
    ...str(p?.modelId, 'POLICY_MODEL_ID'),
    ...str(p?.runId, 'POLICY_RUN_ID'),
    POLICY_MAX_BATCH_SIZE: String(p?.maxBatchSize ?? DEFAULT_POLICY_MAX_BATCH_SIZE),
    ...str(p?.rolloutConcurrency, 'POLICY_ROLLOUT_CONCURRENCY'),
    ...str(p?.staleRetryDelayMs, 'POLICY_STALE_RETRY_DELAY'),
    POLICY_INTRA_OP_THREADS: String(layout.threads),
    POLICY_SESSION_REPLICAS: String(layout.replicas),
  };
}

export function evaluatorEnv(o: StackOptions, policyAddress: string): ServiceEnv {
  return {
    ...base(o),
    ...grpc(o, 'EVALUATOR'),
    EVALUATOR_POLICY_TARGET: policyAddress,
    EVALUATOR_REPORT_DIR: o.reportDir,
    ...str(o.evaluator?.batchSize, 'EVALUATOR_BATCH_SIZE'),
    ...str(o.evaluator?.maxNewTokens, 'EVALUATOR_MAX_NEW_TOKENS'),
  };
}

/** Without an evaluator address the learner's periodic evaluation is off. */
export function learnerEnv(o: ResolvedStackOptions, evaluatorAddress?: string): ServiceEnv {
  const l = o.learner;
  return {
    ...base(o),
    ...grpc(o, 'LEARNER'),
    NATS_URL: o.messaging.url,
    LEARNER_RUNS_DIR: o.runsDir,
    ...str(l?.runConfigFile, 'LEARNER_RUN_CONFIG'),
    ...str(evaluatorAddress, 'LEARNER_EVALUATOR_ADDRESS'),
    ...str(evaluatorAddress === undefined ? undefined : l?.evalLimit, 'LEARNER_EVAL_LIMIT'),
    LEARNER_INTRA_OP_THREADS: String(threads(o, l?.intraOpThreads)),
  };
}
