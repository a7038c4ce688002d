export * from './chain-labels.js';
export * from './judge-probe.js';
export * from './prepare-toy-world.js';
export * from './progress.js';
export * from './random-toy-model.js';
export * from './toy-model.js';
export * from './toy-recipe-config.js';
export * from './toy-world-manifest.js';
