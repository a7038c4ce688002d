// Public entry of @verdict/runtime. Test-only helpers (a throw-away TLS PKI) live at the
// `@verdict/runtime/testing` subpath so production code never pulls them in.
export * from './config/index.js';
export * from './errors/index.js';
export * from './grpc/index.js';
export * from './lifecycle/index.js';
export * from './messaging/index.js';
export * from './nats-server/index.js';
export * from './telemetry/index.js';
