export * from './arm-run-config.js';
export * from './arms.js';
export * from './design.js';
export * from './experiment-config.js';
export * from './hacking-guard.js';
export * from './report-html.js';
export * from './results.js';
export * from './weak-judge.js';
