export type { BlobExpectations, BlobInfo, BlobIntegrityReason } from './blobs.js';
export { BlobIntegrityError, sha256Hex } from './blobs.js';
export * from './connect-messaging.js';
export type {
  Messaging,
  NatsConnectOptions,
  NatsReconnectPolicy,
  NatsTlsOptions,
  PublishOptions,
  PublishResult,
} from './connect-nats.js';
export { connectNats } from './connect-nats.js';
export type {
  ConsumeOptions,
  ConsumeStats,
  HandlerOutcome,
  MessageContext,
  MessageHandler,
} from './consume.js';
export { isRetryableError, retryDelayMs } from './consume.js';
export type { MessageHeaderHooks, MessageHeaders, TracedDelivery } from './headers.js';
export type { OrderedMessage, OrderedSubscribeOptions, OrderedSubscription } from './ordered.js';
export { DEFAULT_OUTAGE_RETRY_MS, isTransientNatsError } from './outage-retry.js';
export type {
  Admitted,
  PoisonCandidate,
  PoisonGuard,
  PoisonGuardOptions,
  PoisonKind,
  RecentIds,
} from './poison.js';
export { createPoisonGuard, createRecentIds, POISON_KINDS } from './poison.js';
export type { SmallState } from './small-state.js';
export type { ConsumerSpec, EnsureResult, StreamRetention, StreamSpec } from './streams.js';
export {
  type RolloutStage,
  rolloutMsgId,
  SCHEMA_HEADER,
  VERDICT_ROLLOUTS_STREAM,
  VERDICT_SCHEMAS,
  VERDICT_SUBJECTS,
  VERDICT_WEIGHTS_BUCKET,
  VERDICT_WEIGHTS_STREAM,
  withSchemaHeader,
} from './verdict-topology.js';
