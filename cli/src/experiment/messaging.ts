import { mkdirSync } from 'node:fs';

export interface ExperimentMessaging {
  readonly transport: 'memory' | 'nats';
  /** What every service gets as NATS_URL. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The messaging backbone of the experiment: a nats-server (JetStream) on a fresh store, or the
 * in-process transport (`mem://`, from @verdict/runtime) where services run in this process and
 * nothing else is installed. `auto` uses nats-server when its binary is found, else memory.
 */
export async function startMessaging(o: {
  transport: 'auto' | 'memory' | 'nats';
  storeDir: string;
}): Promise<ExperimentMessaging> {
  const { findNatsServerBinary, startNatsServer } = await import('@verdict/runtime/testing');
  let useNats = o.transport === 'nats';
  if (o.transport === 'auto') {
    try {
      findNatsServerBinary();
      useNats = true;
    } catch {
      useNats = false;
    }
  }
  if (useNats) {
    mkdirSync(o.storeDir, { recursive: true });
    const server = await startNatsServer({ storeDir: o.storeDir });
    return { transport: 'nats', url: server.url, stop: () => server.stop() };
  }
  const runtime = (await import('@verdict/runtime')) as Record<string, unknown>;
  const dispose = runtime['disposeInMemoryBroker'];
  const name = `verdict-experiment-${process.pid}-${Date.now()}`;
  return {
    transport: 'memory',
    url: `mem://${name}`,
    async stop() {
      if (typeof dispose === 'function') await (dispose as (n: string) => unknown)(name);
    },
  };
}
