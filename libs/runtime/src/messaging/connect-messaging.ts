import { VerdictError } from '../errors/index.js';
import { connectNats, type Messaging, type NatsConnectOptions } from './connect-nats.js';
import { connectInMemory, getInMemoryBroker, type InMemoryBroker } from './in-memory/index.js';

export { redactNatsUrl } from './connect-nats.js';
export {
  connectInMemory,
  createInMemoryBroker,
  disposeInMemoryBroker,
  getInMemoryBroker,
  type InMemoryBroker,
  type InMemoryConnectOptions,
} from './in-memory/index.js';
export {
  type NatsConnectionConfig,
  type NatsConnectionSettings,
  natsConnectionEnv,
  natsConnectionProblems,
  natsConnectOptionsFromConfig,
} from './nats-connection-options.js';

export interface MessagingConnectOptions extends NatsConnectOptions {
  /** For `mem://` URLs: this broker instead of the process-wide one named by the URL. */
  broker?: InMemoryBroker;
}

export const IN_MEMORY_PROTOCOL = 'mem:';

/** True for `mem://name` URLs (the in-process transport). */
export function isInMemoryUrl(url: string): boolean {
  return url.trim().toLowerCase().startsWith(`${IN_MEMORY_PROTOCOL}//`);
}

/** The broker name of a `mem://name` URL (`mem://` alone is `default`). */
export function inMemoryBrokerName(url: string): string {
  const name = url.trim().slice(`${IN_MEMORY_PROTOCOL}//`.length).replace(/\/+$/, '');
  return name === '' ? 'default' : name;
}

/**
 * Connects by URL: `nats://…` / `tls://…` → NATS JetStream (`connectNats`), `mem://name` →
 * the in-process broker `name`, shared by every Messaging of this process that names it.
 * Both give the same `Messaging` contract, so a service does not know which it runs on.
 */
export async function connectMessaging(options: MessagingConnectOptions): Promise<Messaging> {
  const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
  const memory = servers.filter(isInMemoryUrl);
  if (memory.length === 0) {
    const { broker: _broker, ...natsOptions } = options;
    return connectNats(natsOptions);
  }
  const [url] = memory;
  if (url === undefined || servers.length !== 1) {
    throw new VerdictError(
      'INVALID_ARGUMENT',
      `a mem:// URL cannot be combined with other servers (got ${servers.join(',')})`,
      { field: 'servers' },
    );
  }
  options.logger?.info(`nats: in-process broker ${url.trim()} (auth: none, tls: off)`);
  return connectInMemory({
    broker: options.broker ?? getInMemoryBroker(inMemoryBrokerName(url)),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.headerHooks !== undefined ? { headerHooks: options.headerHooks } : {}),
  });
}
