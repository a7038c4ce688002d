import { loadCommands } from './framework/registry.js';
import { runCli } from './framework/run-cli.js';

const code = await runCli(await loadCommands(), process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
});
// Exit explicitly once stdout has drained: an ORT worker left open must not keep the CLI alive.
process.stdout.write('', () => process.exit(code));
