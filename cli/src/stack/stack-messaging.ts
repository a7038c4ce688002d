import { mkdirSync } from 'node:fs';
import { disposeInMemoryBroker, findNatsServerBinary, startNatsServer } from '@verdict/runtime';
import type { StackMessagingOptions } from './stack-options.js';

export interface StackMessaging {
  readonly transport: 'nats' | 'memory';
  /** What every service gets as NATS_URL. */
  readonly url: string;
  /** True when this call started the server or broker (and `stop` stops it). */
  readonly owned: boolean;
  /** Why `nats-or-memory` fell back to the in-process broker. */
  readonly fallbackReason?: string;
  /** Stops what this call started (nothing for `{ url }`). Idempotent. */
  stop(): Promise<void>;
}

let brokerCounter = 0;

function memory(brokerName: string | undefined, fallbackReason?: string): StackMessaging {
  brokerCounter++;
  const name = brokerName ?? `verdict-${process.pid}-${brokerCounter}`;
  return {
    transport: 'memory',
    url: `mem://${name}`,
    owned: true,
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
    async stop() {
      disposeInMemoryBroker(name);
    },
  };
}

/**
 * Starts (or adopts) the messaging backbone of a stack. The in-process broker has JetStream's
 * semantics (pinned by the runtime's conformance tests) but lives and dies with this process;
 * nats-server keeps its store in `storeDir` across restarts.
 */
export async function startStackMessaging(o: StackMessagingOptions): Promise<StackMessaging> {
  if ('url' in o) {
    const transport = o.url.startsWith('mem://') ? 'memory' : 'nats';
    return { transport, url: o.url, owned: false, stop: async () => undefined };
  }
  if (o.start === 'memory') return memory(o.brokerName);
  let bin: string;
  try {
    bin = findNatsServerBinary(o.natsServerBin);
  } catch (error) {
    if (o.start === 'nats') throw error; // names the install command
    return memory(o.brokerName, (error as Error).message);
  }
  if (o.storeDir !== undefined) mkdirSync(o.storeDir, { recursive: true });
  const server = await startNatsServer({
    bin,
    ...(o.storeDir !== undefined ? { storeDir: o.storeDir } : {}),
  });
  return { transport: 'nats', url: server.url, owned: true, stop: () => server.stop() };
}
