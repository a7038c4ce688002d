import { isModelEngineError, isVerdictError } from '@verdict/runtime';
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
let address: string;
try {
  ({ address } = await app.start());
} catch (error) {
  // A model folder the engine cannot load (unsupported model_type, bad checkpoint or tokenizer)
  // is a configuration problem: one line naming it, exit 2 like a bad variable. Anything else
  // keeps its stack trace.
  if (!isModelEngineError(error)) throw error;
  process.stderr.write(`judge-server: ${error.message.split('\n').join('; ')}\n`);
  process.exit(2);
}
process.stderr.write(`judge-server: serving on ${address}\n`);
