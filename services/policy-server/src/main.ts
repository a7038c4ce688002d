import { isVerdictError } from '@verdict/runtime';
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
const { address } = await app.start();
process.stderr.write(`policy-server listening on ${address}\n`);
