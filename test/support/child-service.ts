import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');

export interface ChildService {
  readonly proc: ChildProcess;
  /** host:port the service printed once serving. */
  readonly address: Promise<string>;
  readonly exited: Promise<number | null>;
  /** Everything the child wrote on stderr so far (for failure messages). */
  stderr(): string;
}

/**
 * Runs one service's bin (`services/<name>/bin/<name>.mjs`) as a child process with `env` on top of
 * this process's environment; `address` resolves with the address it prints on stderr.
 */
export function startChildService(name: string, env: Record<string, string>): ChildService {
  const proc = spawn(process.execPath, [resolve(REPO, `services/${name}/bin/${name}.mjs`)], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const address = new Promise<string>((resolveAddress, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /(?:serving on|listening on) (\S+)/.exec(err);
      if (m) resolveAddress(m[1]!);
    });
    void exited.then((code) => reject(new Error(`${name} exited with ${code} before serving:\n${err}`)));
  });
  address.catch(() => undefined);
  return { proc, address, exited, stderr: () => err };
}
