import { mkdirSync } from 'node:fs';

export interface ExperimentMessaging {
  readonly transport: 'memory' | 'nats';
  /** What every service gets as NATS_URL. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The messaging backbone of the experiment: the in-process transport (`mem://`, JetStream semantics,
 * from @verdict/runtime: every service runs in this process, nothing else installed), or a
 * nats-server on a fresh store. `auto` = memory (both give identical results: measured on the
 * quick run, results.json equal).
 */
export async function startMessaging(o: {
  transport: 'auto' | 'memory' | 'nats';
  storeDir: string;
}): Promise<ExperimentMessaging> {
  const { findNatsServerBinary, startNatsServer } = await import('@verdict/runtime/testing');
  if (o.transport === 'nats') {
    findNatsServerBinary(); // throws naming how to install it
    mkdirSync(o.storeDir, { recursive: true });
    const server = await startNatsServer({ storeDir: o.storeDir });
    return { transport: 'nats', url: server.url, stop: () => server.stop() };
  }
  const { disposeInMemoryBroker } = await import('@verdict/runtime');
  const name = `verdict-experiment-${process.pid}-${Date.now()}`;
  return {
    transport: 'memory',
    url: `mem://${name}`,
    async stop() {
      disposeInMemoryBroker(name);
    },
  };
}
