import { isVerdictError } from '@verdict/runtime';
import { createJudgeServerApp } from './app.js';
import { loadJudgeServerConfig } from './config.js';

let config: ReturnType<typeof loadJudgeServerConfig>;
try {
  config = loadJudgeServerConfig(process.env);
} catch (error) {
  const message = isVerdictError(error) ? error.message.replaceAll('\n', ' ') : String(error);
  process.stderr.write(`judge-server: ${message}\n`);
  process.exit(2);
}
const app = createJudgeServerApp(config);
app.lifecycle.installSignalHandlers();
const { address } = await app.start();
process.stderr.write(`judge-server: serving on ${address}\n`);
