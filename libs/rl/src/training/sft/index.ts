export { runSft, type SftRunOptions, type SftSummary } from './run-sft.js';
export {
  readSftJsonl,
  type SftExample,
  SftInputError,
  sftBatch,
  type TokenizedSftExample,
  tokenizeSftExamples,
} from './sft-data.js';
