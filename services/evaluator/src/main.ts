import { createEvaluatorApp } from './app.js';
import { type EvaluatorConfig, loadEvaluatorConfig } from './config.js';

let config: EvaluatorConfig;
try {
  config = loadEvaluatorConfig(process.env, process.argv.slice(2));
} catch (e) {
  process.stderr.write(
    `verdict-evaluator: ${e instanceof Error ? e.message.split('\n').join('; ') : String(e)}\n`,
  );
  process.exit(2);
}

const app = createEvaluatorApp(config);
if (config.once) {
  // Nightly CronJob: run the suites, write the reports, exit 0 only if every suite ran.
  const outcome = await app.runOnce();
  process.stdout.write(
    `${JSON.stringify({ ok: outcome.ok, run_id: outcome.reports?.runId ?? null, results: outcome.results, failures: outcome.failures })}\n`,
  );
  process.stdout.write('', () => process.exit(outcome.ok ? 0 : 1));
} else {
  app.lifecycle.installSignalHandlers();
  await app.start();
}
