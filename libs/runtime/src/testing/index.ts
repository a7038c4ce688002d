export type { NatsServerHandle, NatsServerOptions } from './nats-server.js';
export { findFreePort, findNatsServerBinary, startNatsServer } from './nats-server.js';
export type { NatsServerAuthOptions } from './nats-server-auth.js';
export { natsServerAuthArgs } from './nats-server-auth.js';
export type { TestCertificateOptions, TestCertificates, TestKeyPair } from './tls-certificates.js';
export {
  createTestCertificates,
  DEFAULT_TEST_SERVER_NAMES,
  opensslMissingReason,
} from './tls-certificates.js';
