export * from './grpc-status.js';
export * from './verdict-error.js';
