import { isVerdictError } from '@verdict/runtime';
import { createRewardServiceApp } from './app.js';
import { loadRewardServiceConfig } from './config.js';

let config: ReturnType<typeof loadRewardServiceConfig>;
try {
  config = loadRewardServiceConfig(process.env);
} catch (error) {
  const message = isVerdictError(error) ? error.message.replaceAll('\n', ' ') : String(error);
  process.stderr.write(`reward-service: ${message}\n`);
  process.exit(2);
}
const app = createRewardServiceApp(config);
app.lifecycle.installSignalHandlers();
const { address } = await app.start();
process.stderr.write(`reward-service: serving on ${address}\n`);
