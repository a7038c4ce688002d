export * from './lifecycle.js';
export * from './logger.js';
