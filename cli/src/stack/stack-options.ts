import type { AfterStepHook } from '@verdict/learner';
import type { RuntimeLogger } from '@verdict/runtime';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Services a caller may leave out (e.g. to run them as child processes itself). */
export type SkippableService = 'reward-service' | 'evaluator' | 'learner';

/**
 * Where the services exchange messages.
 * - `{ url }`: an existing server (`nats://`, `tls://`) or a named in-process broker (`mem://NAME`);
 *   the stack neither starts nor stops it (e.g. one nats-server shared by several stacks).
 * - `{ start: 'nats' }`: a nats-server with JetStream on a free loopback port (`storeDir`, default a
 *   temp folder removed at stop); fails, naming the install command, when the binary is missing.
 * - `{ start: 'memory' }`: a fresh in-process broker (`brokerName`, default unique), reset at stop.
 * - `{ start: 'nats-or-memory' }`: nats-server when installed, else the in-process broker.
 */
export type StackMessagingOptions =
  | { readonly url: string }
  | {
      readonly start: 'nats' | 'memory' | 'nats-or-memory';
      readonly storeDir?: string;
      readonly brokerName?: string;
      /** nats-server binary; default NATS_SERVER_BIN, /usr/sbin/nats-server, then PATH. */
      readonly natsServerBin?: string;
    };

/** λ (verifiable), μ (judge), ρ (judge rank in group); they must sum to 1. */
export interface RewardWeights {
  readonly lambdaVr: number;
  readonly muJudge: number;
  readonly rhoRerank?: number;
}

export interface StackOptions {
  readonly messaging: StackMessagingOptions;
  /** The student (policy) model folder every policy replica serves as version 0. */
  readonly studentDir: string;
  readonly judgeDir: string;
  /** The learner's runs folder (checkpoints, metrics). */
  readonly runsDir: string;
  /** The evaluator's report folder (created when missing). */
  readonly reportDir: string;
  /** Bind address of every service; default 127.0.0.1. Every port is 0 (a free one). */
  readonly host?: string;
  /** Default 1. */
  readonly policyReplicas?: number;
  /** Default λ 0.5, μ 0.5, ρ 0. */
  readonly reward?: RewardWeights & {
    /** Ask the judge about labeled samples too (agreement metrics); default: the service's (false). */
    readonly judgeOnLabeled?: boolean;
  };
  readonly skip?: readonly SkippableService[];
  /** Default 'warn'. */
  readonly logLevel?: LogLevel;
  /** One logger for every service; default: each service's own stderr logger at `logLevel`. */
  readonly logger?: RuntimeLogger;
  /** Start each service's OpenTelemetry SDK; default false (a caller that traces starts its own). */
  readonly telemetry?: boolean;
  /**
   * ONNX Runtime intra-op threads of each model-running service (judge, policy, learner) unless set
   * per service. Default: every core of the machine — in a sequential RL step the services take
   * turns (generate, judge, train), so each may use them all.
   */
  readonly threads?: number;
  readonly judge?: {
    readonly modelId?: string;
    readonly maxBatchSize?: number;
    readonly intraOpThreads?: number;
  };
  readonly policy?: {
    readonly modelId?: string;
    /** Load only this run's weights (a stack per run). */
    readonly runId?: string;
    /** Replica i is `${instanceIdPrefix}${i}`; default 'policy-'. */
    readonly instanceIdPrefix?: string;
    /** Sequences decoded together; default 64 (a whole toy step's rollouts in one or two batches). */
    readonly maxBatchSize?: number;
    readonly rolloutConcurrency?: number;
    readonly staleRetryDelayMs?: number;
    /** Default: 1 for a small student (its replicas share the cores), else the stack's threads. */
    readonly intraOpThreads?: number;
    /** Generation session copies; default: one per core for a small student, else 1 (see service-env). */
    readonly sessionReplicas?: number;
  };
  readonly evaluator?: {
    readonly batchSize?: number;
    readonly maxNewTokens?: number;
  };
  readonly learner?: {
    /** Run config JSON the learner starts (or resumes) at boot. */
    readonly runConfigFile?: string;
    /** Awaited after each step (in-process orchestration: the experiment's guard). */
    readonly afterStep?: AfterStepHook;
    /** Problems per suite at each periodic evaluation (the learner uses the stack's evaluator). */
    readonly evalLimit?: number;
    readonly intraOpThreads?: number;
  };
  /** One line per start/stop step (e.g. the CLI's progress on stderr). */
  readonly progress?: (line: string) => void;
}
