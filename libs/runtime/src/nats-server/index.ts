export type { NatsServerHandle, NatsServerOptions } from './nats-server.js';
export { findFreePort, findNatsServerBinary, startNatsServer } from './nats-server.js';
export type { NatsServerAuthOptions } from './nats-server-auth.js';
export { natsServerAuthArgs } from './nats-server-auth.js';
