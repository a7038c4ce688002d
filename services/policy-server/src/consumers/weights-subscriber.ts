import { weightsV1 } from '@verdict/proto';
import {
  clientText,
  createPoisonGuard,
  createRecentIds,
  type Messaging,
  type PoisonKind,
  type RuntimeLogger,
  VERDICT_SCHEMAS,
} from '@verdict/runtime';
import { SUBJECTS, WEIGHTS_STREAM } from '../streams.js';

export interface WeightsSubscriberOptions {
  readonly messaging: Messaging;
  /** Handles one announcement; errors are logged and the subscription goes on. */
  readonly onPublished: (message: weightsV1.WeightsPublished) => Promise<void>;
  /** Only this run's announcements are taken; another run's are skipped as poison (undefined = any run). */
  readonly runId?: string | undefined;
  /** Larger WeightsPublished payloads are skipped as poison. */
  readonly maxMessageBytes: number;
  readonly logger: RuntimeLogger;
}

export interface WeightsSubscriber {
  /** Poison announcements skipped so far, by kind. */
  readonly poisoned: Readonly<Record<PoisonKind, number>>;
  stop(): Promise<void>;
}

/**
 * Every replica must see every weights version, so this is NOT the shared durable consumer of
 * the rollouts: each replica reads the weights stream through its own ordered (ephemeral,
 * server-cleaned) consumer, starting at the last announcement so that a replica started late
 * catches up to the newest version at once. Announcements are handled one at a time; one that
 * is already superseded by a pending newer one is skipped. An ordered consumer has no acks, so
 * a poison announcement is skipped (logged and counted) rather than terminated: it is never
 * delivered to this reader again either way.
 */
export async function startWeightsSubscriber(options: WeightsSubscriberOptions): Promise<WeightsSubscriber> {
  const { messaging, logger } = options;
  await messaging.ensureStream(WEIGHTS_STREAM);
  const guard = createPoisonGuard({
    subject: SUBJECTS.weightsPublished,
    schema: VERDICT_SCHEMAS[SUBJECTS.weightsPublished]!,
    maxBytes: options.maxMessageBytes,
    decode: (data) => weightsV1.WeightsPublished.decode(data),
    action: 'skip',
    logger,
  });
  // Announcements taken (run + version): the same version announced again is a duplicate.
  const taken = createRecentIds(10_000);
  const messages = await messaging.subscribeOrdered({
    stream: WEIGHTS_STREAM.name,
    filterSubject: SUBJECTS.weightsPublished,
    deliverPolicy: 'last',
  });
  const loop = (async () => {
    for await (const m of messages) {
      const admitted = guard.admit(m);
      if (!admitted.ok) continue;
      const published = admitted.value;
      const version = published.version.toString();
      // Several runs share the weights subject (the experiment runs its arms one after another on
      // one backbone): another run's announcement is ordinary traffic, not poison.
      if (options.runId !== undefined && published.runId !== options.runId) {
        logger.debug('weights announcement of another run; ignored', {
          runId: clientText(published.runId),
          version,
        });
        continue;
      }
      const key = `${published.runId}\u0000${version}`;
      if (taken.has(key)) {
        guard.duplicate(m, `${clientText(published.runId)} v${version}`);
        continue;
      }
      if (m.pending > 0) {
        logger.info('weights announcement superseded by a newer one; skipping', { version });
        continue;
      }
      taken.add(key);
      try {
        await options.onPublished(published);
      } catch (error) {
        logger.error('weights announcement failed', { version, error });
      }
    }
  })();
  return {
    poisoned: guard.counts,
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
