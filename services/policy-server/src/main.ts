import { isModelEngineError, isVerdictError } from '@verdict/runtime';
import { createPolicyApp } from './app.js';
import { loadPolicyConfig, type PolicyConfig } from './config.js';

let config: PolicyConfig;
try {
  config = loadPolicyConfig(process.env);
} catch (error) {
  if (!isVerdictError(error)) throw error;
  process.stderr.write(`policy-server: ${error.message.split('\n').join('; ')}\n`);
  process.exit(2);
}
const app = createPolicyApp(config);
app.lifecycle.installSignalHandlers();
let address: string;
try {
  ({ address } = await app.start());
} catch (error) {
  // A model folder the engine cannot load (unsupported model_type, bad checkpoint or tokenizer)
  // is a configuration problem: one line naming it, exit 2 like a bad variable. Anything else
  // keeps its stack trace.
  if (!isModelEngineError(error)) throw error;
  process.stderr.write(`policy-server: ${error.message.split('\n').join('; ')}\n`);
  process.exit(2);
}
process.stderr.write(`policy-server listening on ${address}\n`);
