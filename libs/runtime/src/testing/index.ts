// Test-only helpers. The nats-server launcher is a feature of the main entry (verdict up and the
// experiment start one); it is re-exported here so tests keep one import for their harness.
export * from '../nats-server/index.js';
export type { HealthOutcome, ServerTlsSuite, TestChannelKind } from './grpc-tls-checks.js';
export {
  healthCheckOver,
  itServesTls,
  linesWithKeyMaterial,
  recordingLogger,
  testChannel,
} from './grpc-tls-checks.js';
export type { ConsumerState, PayloadPoisonOptions } from './poison-messages.js';
export {
  BAD_PROTOBUF,
  consumerState,
  padProtobuf,
  poisonLinesByKind,
  publishPayloadPoisons,
  waitUntil,
} from './poison-messages.js';
export type { TestCertificateOptions, TestCertificates, TestKeyPair } from './tls-certificates.js';
export {
  createTestCertificates,
  DEFAULT_TEST_SERVER_NAMES,
  opensslMissingReason,
} from './tls-certificates.js';
