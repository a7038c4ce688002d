import { randomBytes } from 'node:crypto';
import {
  generateToyProblems,
  loadSuite,
  type Problem,
  toUnlabeled,
  type UnlabeledProblem,
} from '@verdict/data';
import { loadTrainingCheckpoint } from '@verdict/rl';
import { clientText, type Messaging, type RuntimeLogger, VerdictError } from '@verdict/runtime';
import type { ScoredInbox } from '../consumers/scored-inbox.js';
import { createQuestionPool } from '../domain/question-pool.js';
import type { ValidRunConfig } from '../run-config/run-config.js';
import {
  createPolicyTrainer,
  type PolicyTrainerOptions,
  type TrainStep,
} from '../training/policy-trainer.js';
import type { Evaluate } from './evaluation.js';
import { type AfterStepHook, RunController } from './run-controller.js';
import { checkRunModels } from './run-models.js';
import { RunStore } from './run-store.js';

export interface RunManagerOptions {
  readonly runsDir: string;
  readonly dataDir?: string;
  readonly messaging: Messaging;
  readonly inbox: ScoredInbox;
  readonly logger: RuntimeLogger;
  readonly intraOpThreads: number;
  /** Execution provider of the trainer's sessions (LEARNER_EXECUTION_PROVIDER[_FALLBACK]). */
  readonly sessions?: Pick<PolicyTrainerOptions, 'executionProvider' | 'executionProviderFallback'>;
  /** Periodic evaluation through the evaluator (absent = off). */
  readonly evaluate?: Evaluate;
  readonly evalLimit?: number;
  /** Awaited after every completed step of every run (see RunControllerDeps.afterStep). */
  readonly afterStep?: AfterStepHook;
  /** Test hook: replace the Training engine. */
  readonly createTrainer?: (run: ValidRunConfig, resume: { dir: string } | undefined) => TrainStep;
}

/** Loads the configured sources into the labeled-eligible pool and the unlabeled-only pool. */
export function loadRunProblems(
  config: ValidRunConfig,
  dataDir: string | undefined,
): { problems: Problem[]; unlabeledOnly: UnlabeledProblem[] } {
  const problems: Problem[] = [];
  const unlabeledOnly: UnlabeledProblem[] = [];
  for (const s of config.dataMix) {
    let loaded: Problem[];
    if (s.name === 'toy') {
      loaded = generateToyProblems(s.limit || 1000, {
        seed: config.dataSeed,
        split: s.split === 'ood' ? 'ood' : 'id',
      });
    } else {
      try {
        loaded = loadSuite(s.name, {
          ...(s.limit > 0 ? { limit: s.limit } : {}),
          ...(dataDir ? { dataDir } : {}),
        });
      } catch (error) {
        throw new VerdictError(
          'INVALID_ARGUMENT',
          `data source ${clientText(s.name)}: ${(error as Error).message}`,
          {
            field: 'dataMix',
            cause: error,
          },
        );
      }
    }
    if (s.labeled) problems.push(...loaded);
    else unlabeledOnly.push(...loaded.map(toUnlabeled));
  }
  return { problems, unlabeledOnly };
}

/** The learner's runs: one active at a time (one scored-rollout consumer feeds it), any number finished. */
export class RunManager {
  private readonly runs = new Map<string, RunController>();
  private active: RunController | undefined;

  constructor(private readonly options: RunManagerOptions) {}

  get(runId: string): RunController {
    const run = this.runs.get(runId);
    if (run === undefined)
      throw new VerdictError('NOT_FOUND', `unknown run ${clientText(runId)}`, { field: 'run_id' });
    return run;
  }

  get activeRun(): RunController | undefined {
    return this.active;
  }

  start(input: ValidRunConfig, resume: boolean): RunController {
    const config: ValidRunConfig =
      input.runId === '' ? { ...input, runId: `run-${randomBytes(4).toString('hex')}` } : input;
    if (this.active !== undefined && !this.active.isTerminal) {
      if (this.active.runId === config.runId) {
        throw new VerdictError('ALREADY_EXISTS', `run ${config.runId} is active`, { field: 'config.run_id' });
      }
      throw new VerdictError('FAILED_PRECONDITION', `run ${this.active.runId} is active; one run at a time`, {
        field: 'config.run_id',
      });
    }
    // Any registered family with a training graph (Llama, OPT/Galactica); refused here, not mid-run.
    // Checked first: reading two config files is cheap, while the data mix may generate up to
    // 100,000 toy problems on the event loop (~2 s), work a StartRun naming a missing folder must
    // not cost (issue 17).
    const tokenizer = checkRunModels(config);
    const { problems, unlabeledOnly } = loadRunProblems(config, this.options.dataDir);
    let pool: ReturnType<typeof createQuestionPool>;
    try {
      pool = createQuestionPool({
        problems,
        unlabeledOnly,
        ratio: config.labeledRatio,
        promptsPerStep: config.promptsPerStep,
        seed: config.dataSeed,
      });
    } catch (error) {
      throw new VerdictError('INVALID_ARGUMENT', (error as Error).message, { field: 'dataMix' });
    }
    const store = new RunStore(this.options.runsDir, config.runId);
    const makeTrainer =
      this.options.createTrainer ??
      ((run: ValidRunConfig, res: { dir: string } | undefined) => {
        const sessions = { intraOpThreads: this.options.intraOpThreads, ...this.options.sessions };
        if (res === undefined) return createPolicyTrainer({ run, ...sessions });
        const ckpt = loadTrainingCheckpoint(res.dir);
        return createPolicyTrainer({
          run,
          ...sessions,
          resume: { params: ckpt.params, ...(ckpt.optimizer ? { optimizer: ckpt.optimizer } : {}) },
        });
      });
    const run = new RunController({
      config,
      store,
      messaging: this.options.messaging,
      inbox: this.options.inbox,
      pool,
      encode: (text) => tokenizer.encode(text),
      createTrainer: (res) => makeTrainer(config, res),
      logger: this.options.logger,
      resume,
      ...(this.options.evaluate ? { evaluate: this.options.evaluate } : {}),
      ...(this.options.evalLimit ? { evalLimit: this.options.evalLimit } : {}),
      ...(this.options.afterStep ? { afterStep: this.options.afterStep } : {}),
    });
    this.runs.set(config.runId, run);
    this.active = run;
    run.start();
    return run;
  }

  /** Stops the active run after its current step; resolves when it has ended. */
  async stopAll(reason: string): Promise<void> {
    const run = this.active;
    if (run === undefined) return;
    run.requestStop(reason);
    await run.done;
  }
}
