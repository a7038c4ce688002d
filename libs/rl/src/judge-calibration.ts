// The `@verdict/rl/judge-calibration` entry point: the calibration file format and the map it
// applies, without the rest of the package (the judge-server needs only these).
export * from './judge/judge-calibration-file.js';
export * from './judge/temperature-scaling.js';
