// Public entry of @verdict/runtime.
export * from './config/index.js';
export * from './errors/index.js';
export * from './grpc/index.js';
export * from './lifecycle/index.js';
// export * from './messaging/index.js';
// export * from './telemetry/index.js';
