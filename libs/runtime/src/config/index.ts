export * from './config-var.js';
export * from './define-config.js';
export * from './env.js';
export * from './parse-duration.js';
