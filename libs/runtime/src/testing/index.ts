export type { NatsServerHandle, NatsServerOptions } from './nats-server.js';
export { findFreePort, findNatsServerBinary, startNatsServer } from './nats-server.js';
