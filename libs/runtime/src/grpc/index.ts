export * from './call-context.js';
export * from './call-observer.js';
export * from './client.js';
export * from './handlers.js';
export * from './health.js';
export * from './server.js';
export * from './server-tls.js';
