export * from './experiment/index.js';
export * from './toy/index.js';
