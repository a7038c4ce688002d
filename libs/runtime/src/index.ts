// Public entry of @verdict/runtime. The nats-server test harness lives at the
// `@verdict/runtime/testing` subpath so production code never pulls it in.
export * from './config/index.js';
export * from './errors/index.js';
export * from './grpc/index.js';
export * from './lifecycle/index.js';
export * from './messaging/index.js';
export * from './telemetry/index.js';
