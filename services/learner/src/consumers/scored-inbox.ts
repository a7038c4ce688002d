import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  clientText,
  createPoisonGuard,
  type HandlerOutcome,
  type MessageContext,
  type PoisonGuard,
  type PoisonKind,
  type RuntimeLogger,
  VERDICT_SCHEMAS,
  VERDICT_SUBJECTS,
} from '@verdict/runtime';
import type { ScoredSample } from '../domain/scored-sample.js';
import type { StepCollector } from '../domain/step-collector.js';
import { decodeScored } from './rollout-codec.js';

/** What the inbox needs from the active run. */
export interface InboxTarget {
  readonly runId: string;
  readonly collector: StepCollector;
  /** Called after each accepted sample (wakes the step loop). */
  onAccepted(sample: ScoredSample): void;
}

/** Whether `runsDir` holds a folder for this run id (an id that is not a plain name never does). */
export function hasRunDir(runsDir: string, runId: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId) && existsSync(join(runsDir, runId));
}

export interface ScoredInboxOptions {
  readonly logger: RuntimeLogger;
  /**
   * Whether a run no process is going to resume has ended (e.g. its run dir says completed), so its
   * late or replayed messages are acked instead of handed back forever.
   */
  readonly isFinished?: (runId: string) => boolean;
  /**
   * Whether this learner has any record of the run (its run dir). A message of a run it has never
   * seen can never be used here: it is terminated as poison instead of nak'd forever.
   */
  readonly isKnown?: (runId: string) => boolean;
  /** Larger RolloutScored payloads are terminated as poison. */
  readonly maxMessageBytes: number;
}

/**
 * The handler of the learner's durable consumer on verdict.rollout.scored. A scored rollout is
 * acked only after the step that used (or dropped) it is checkpointed: the handler returns a promise
 * that `settle` resolves. So a learner crash loses nothing (unacked messages are redelivered) and
 * the seen-id set in the checkpoint makes redeliveries of consumed ids no-ops (ack, not counted):
 * at-least-once delivery + idempotent consumption = exactly-once use, by rollout id.
 */
export class ScoredInbox {
  private target: InboxTarget | undefined;
  private readonly waiting = new Map<
    string,
    { promise: Promise<HandlerOutcome>; resolve: (o: HandlerOutcome) => void }
  >();
  /** Runs this process finished: their late messages are acked and dropped. */
  private readonly finishedRuns = new Set<string>();
  duplicates = 0;
  private readonly logger: RuntimeLogger;
  private readonly isFinished: (runId: string) => boolean;
  private readonly isKnown: (runId: string) => boolean;
  private readonly guard: PoisonGuard<ScoredSample>;

  constructor(options: ScoredInboxOptions) {
    this.logger = options.logger;
    this.isFinished = options.isFinished ?? (() => false);
    this.isKnown = options.isKnown ?? (() => true);
    this.guard = createPoisonGuard({
      subject: VERDICT_SUBJECTS.rolloutScored,
      schema: VERDICT_SCHEMAS[VERDICT_SUBJECTS.rolloutScored]!,
      maxBytes: options.maxMessageBytes,
      decode: decodeScored,
      logger: options.logger,
    });
  }

  /** Poison messages terminated so far, by kind. */
  get poisoned(): Readonly<Record<PoisonKind, number>> {
    return this.guard.counts;
  }

  attach(target: InboxTarget): void {
    this.target = target;
  }

  /** Detaches the run; its held messages are nak'd so a later (resumed) learner gets them again. */
  detach(runId: string, finished: boolean): void {
    if (this.target?.runId === runId) this.target = undefined;
    if (finished) this.finishedRuns.add(runId);
    for (const [id, w] of this.waiting) {
      w.resolve(finished ? 'ack' : { nak: 1_000 });
      this.waiting.delete(id);
    }
  }

  /** Acks the messages of these rollout ids (after their step's checkpoint). */
  settle(ids: readonly string[]): void {
    for (const id of ids) {
      const w = this.waiting.get(id);
      if (w === undefined) continue;
      w.resolve('ack');
      this.waiting.delete(id);
    }
  }

  get heldCount(): number {
    return this.waiting.size;
  }

  readonly handler = (msg: MessageContext): HandlerOutcome | Promise<HandlerOutcome> => {
    const admitted = this.guard.admit(msg);
    if (!admitted.ok) return 'term';
    const sample = admitted.value;
    const target = this.target;
    if (target === undefined || target.runId !== sample.runId) {
      if (this.finishedRuns.has(sample.runId) || this.isFinished(sample.runId)) {
        this.finishedRuns.add(sample.runId);
        return 'ack';
      }
      if (!this.isKnown(sample.runId)) {
        return this.guard.reject(msg, 'unknown_run', 'no run of this learner has this id', {
          runId: clientText(sample.runId),
        });
      }
      // No run to take it yet (e.g. before a resume): hand it back for later.
      return { nak: 2_000 };
    }
    const held = this.waiting.get(sample.rolloutId);
    if (held !== undefined) {
      this.duplicates++;
      // A redelivery of the held message itself shares its settlement (terming it would lose the
      // sample if the learner crashed before the checkpoint); another copy is poison.
      return msg.redelivered ? held.promise : this.guard.duplicate(msg, sample.rolloutId);
    }
    const outcome = target.collector.add(sample);
    if (outcome === 'seen' || outcome === 'pending') {
      this.duplicates++;
      return this.guard.duplicate(msg, sample.rolloutId);
    }
    if (outcome === 'unexpected') {
      this.logger.warn('scored rollout does not fit its group; dropped', {
        rolloutId: sample.rolloutId,
        groupId: sample.groupId,
      });
      return 'ack';
    }
    let resolve!: (o: HandlerOutcome) => void;
    const promise = new Promise<HandlerOutcome>((r) => {
      resolve = r;
    });
    this.waiting.set(sample.rolloutId, { promise, resolve });
    target.onAccepted(sample);
    return promise;
  };
}
