import { loadCommands, runCli } from '../src/index.js';

const commands = await loadCommands();

export interface CliOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI in this process (no child start-up per call) and collects its output; `env` is
 * set for the call and restored afterwards, as the commands read `process.env` when they run.
 */
export async function verdictInProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliOutcome> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let stdout = '';
  let stderr = '';
  try {
    const code = await runCli(commands, args, {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
    });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
