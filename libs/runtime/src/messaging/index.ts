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
export type { SmallState } from './small-state.js';
export type { ConsumerSpec, EnsureResult, StreamRetention, StreamSpec } from './streams.js';
export {
  type RolloutStage,
  rolloutMsgId,
  VERDICT_ROLLOUTS_STREAM,
  VERDICT_SUBJECTS,
  VERDICT_WEIGHTS_BUCKET,
  VERDICT_WEIGHTS_STREAM,
} from './verdict-topology.js';
