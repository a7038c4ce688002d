import type { HandlerOutcome, MessageContext, RuntimeLogger } from '@verdict/runtime';
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

  /**
   * `isFinished(runId)`: whether a run no process is going to resume has ended (e.g. its run dir says
   * completed), so its late or replayed messages are acked instead of handed back forever.
   */
  constructor(
    private readonly logger: RuntimeLogger,
    private readonly isFinished: (runId: string) => boolean = () => false,
  ) {}

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
    let sample: ScoredSample;
    try {
      sample = decodeScored(msg.data);
    } catch (error) {
      this.logger.error('undecodable scored rollout; terminating it', { seq: msg.streamSequence, error });
      return 'term';
    }
    const target = this.target;
    if (target === undefined || target.runId !== sample.runId) {
      if (this.finishedRuns.has(sample.runId) || this.isFinished(sample.runId)) {
        this.finishedRuns.add(sample.runId);
        return 'ack';
      }
      // No run to take it yet (e.g. before a resume): hand it back for later.
      return { nak: 2_000 };
    }
    const held = this.waiting.get(sample.rolloutId);
    if (held !== undefined) {
      this.duplicates++;
      return held.promise;
    }
    const outcome = target.collector.add(sample);
    if (outcome === 'seen' || outcome === 'pending') {
      this.duplicates++;
      return 'ack';
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
