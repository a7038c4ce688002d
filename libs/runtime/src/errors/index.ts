export * from './client-text.js';
export * from './grpc-status.js';
export * from './model-error-codes.js';
export * from './verdict-error.js';
