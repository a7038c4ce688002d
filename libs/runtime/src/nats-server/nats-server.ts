import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type NatsServerAuthOptions, natsServerAuthArgs } from './nats-server-auth.js';

export interface NatsServerOptions {
  /** Path to the binary; default: NATS_SERVER_BIN, /usr/sbin/nats-server, then PATH. */
  bin?: string;
  /** Client port; default: a free port picked on 127.0.0.1. */
  port?: number;
  /** JetStream store dir; default: a fresh temp dir that stop() removes. */
  storeDir?: string;
  /** Extra command-line arguments (e.g. `['--user', 'u', '--pass', 'p']`). */
  extraArgs?: string[];
  /** Credentials and TLS the server requires (turned into flags before `extraArgs`). */
  auth?: NatsServerAuthOptions;
  /** How long to wait for "Server is ready" before giving up. */
  startTimeoutMs?: number;
}

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** SIGTERM, wait for exit, remove the temp store (when we created it). Idempotent. */
  stop(): Promise<void>;
  /** Send a signal (e.g. SIGKILL to simulate a crash) and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stop (if running) and start again on the same port with the same store (data survives). */
  restart(): Promise<void>;
}

const DEFAULT_BIN = '/usr/sbin/nats-server';
const MISSING_BIN_MESSAGE = 'nats-server not found: install it with apt-get install nats-server';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves the nats-server binary or throws the install hint. */
export function findNatsServerBinary(explicit?: string): string {
  const candidate = explicit ?? process.env['NATS_SERVER_BIN'];
  if (candidate !== undefined && candidate !== '') {
    if (isExecutable(candidate)) return candidate;
    throw new Error(`${MISSING_BIN_MESSAGE} (not executable: ${candidate})`);
  }
  if (isExecutable(DEFAULT_BIN)) return DEFAULT_BIN;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, 'nats-server');
    if (isExecutable(path)) return path;
  }
  throw new Error(MISSING_BIN_MESSAGE);
}

/** Asks the kernel for a free port. Racy by nature; startNatsServer retries on bind failure. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

interface Launch {
  child: ChildProcess;
  ready: Promise<void>;
}

function launch(bin: string, args: string[], startTimeoutMs: number): Launch {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`nats-server did not become ready in ${startTimeoutMs} ms; log:\n${log.slice(-2000)}`),
      );
    }, startTimeoutMs);
    // nats-server logs to stderr; "Server is ready" is printed after JetStream and the client
    // listener are up, so a connection made after it sees JetStream enabled.
    child.stderr?.on('data', (chunk: Buffer) => {
      if (log.length < 64 * 1024) log += chunk.toString('utf8');
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`nats-server failed to start: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`nats-server exited early (code ${code}, signal ${signal}); log:\n${log.slice(-2000)}`),
      );
    });
  });
  // Keep the stderr pipe drained after readiness so the server never blocks on a full pipe.
  child.stderr?.resume();
  return { child, ready };
}

/**
 * Starts a nats-server with JetStream on 127.0.0.1: `verdict up`, the experiment and the tests run
 * their stacks on it. Resolves once the server logged "Server is ready" (JetStream included).
 * The process is killed when this Node process exits, so a crash leaves no orphan server.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = findNatsServerBinary(options.bin);
  const authArgs = options.auth === undefined ? [] : natsServerAuthArgs(options.auth);
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const ownsStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'verdict-nats-'));

  const argsFor = (port: number): string[] => [
    '-js',
    '-sd',
    storeDir,
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    ...authArgs,
    ...(options.extraArgs ?? []),
  ];

  let port = options.port ?? 0;
  let current: ChildProcess | undefined;
  const maxAttempts = options.port === undefined ? 5 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < maxAttempts && current === undefined; attempt++) {
    if (options.port === undefined) port = await findFreePort();
    const { child, ready } = launch(bin, argsFor(port), startTimeoutMs);
    try {
      await ready;
      current = child;
    } catch (err) {
      lastError = err;
      await waitForExit(child);
    }
  }
  if (current === undefined) {
    if (ownsStore) rmSync(storeDir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  const killOnExit = (): void => {
    current?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopped = false;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const child = current;
    if (child === undefined) return;
    const exited = waitForExit(child);
    child.kill(signal);
    await exited;
    current = undefined;
  };

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    kill,
    async restart() {
      if (stopped) throw new Error('nats-server handle was stopped; start a new one');
      await kill('SIGTERM');
      const { child, ready } = launch(bin, argsFor(port), startTimeoutMs);
      current = child;
      await ready;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill('SIGTERM');
      process.removeListener('exit', killOnExit);
      if (ownsStore) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
