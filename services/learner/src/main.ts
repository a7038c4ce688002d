import { isVerdictError } from '@verdict/runtime';
import { createLearnerApp } from './app.js';
import { type LearnerConfig, loadLearnerConfig } from './config.js';

let config: LearnerConfig;
try {
  config = loadLearnerConfig(process.env);
} catch (error) {
  const message = isVerdictError(error) ? error.message.replaceAll('\n', ' ') : String(error);
  process.stderr.write(`learner: ${message}\n`);
  process.exit(2);
}
const app = createLearnerApp(config);
app.lifecycle.installSignalHandlers();
const { address } = await app.start();
process.stderr.write(`learner: serving on ${address}\n`);
