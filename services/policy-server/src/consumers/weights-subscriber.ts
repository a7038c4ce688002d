import { weightsV1 } from '@verdict/proto';
import type { Messaging, RuntimeLogger } from '@verdict/runtime';
import { SUBJECTS, WEIGHTS_STREAM } from '../streams.js';

export interface WeightsSubscriberOptions {
  readonly messaging: Messaging;
  /** Handles one announcement; errors are logged and the subscription goes on. */
  readonly onPublished: (message: weightsV1.WeightsPublished) => Promise<void>;
  readonly logger: RuntimeLogger;
}

export interface WeightsSubscriber {
  stop(): Promise<void>;
}

/**
 * Every replica must see every weights version, so this is NOT the shared durable consumer of
 * the rollouts: each replica reads the weights stream through its own ordered (ephemeral,
 * server-cleaned) consumer, starting at the last announcement so that a replica started late
 * catches up to the newest version at once. Announcements are handled one at a time; one that
 * is already superseded by a pending newer one is skipped.
 */
export async function startWeightsSubscriber(options: WeightsSubscriberOptions): Promise<WeightsSubscriber> {
  const { messaging, logger } = options;
  await messaging.ensureStream(WEIGHTS_STREAM);
  const messages = await messaging.subscribeOrdered({
    stream: WEIGHTS_STREAM.name,
    filterSubject: SUBJECTS.weightsPublished,
    deliverPolicy: 'last',
  });
  const loop = (async () => {
    for await (const m of messages) {
      let published: weightsV1.WeightsPublished;
      try {
        published = weightsV1.WeightsPublished.decode(m.data);
      } catch (error) {
        logger.error('undecodable WeightsPublished message', { seq: m.streamSequence, error });
        continue;
      }
      if (m.pending > 0) {
        logger.info('weights announcement superseded by a newer one; skipping', {
          version: published.version.toString(),
        });
        continue;
      }
      try {
        await options.onPublished(published);
      } catch (error) {
        logger.error('weights announcement failed', { version: published.version.toString(), error });
      }
    }
  })();
  return {
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
