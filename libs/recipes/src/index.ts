export * from './toy/index.js';
