import { type StackMessaging, startStackMessaging } from '../stack/index.js';

export type ExperimentMessaging = Pick<StackMessaging, 'transport' | 'url' | 'stop'>;

/**
 * The messaging backbone of the experiment, shared by every arm's stack: the in-process transport
 * (`mem://`, JetStream semantics, from @verdict/runtime: every service runs in this process,
 * nothing else installed), or a nats-server on a fresh store. `auto` = memory (both give identical
 * results: measured on the quick run, results.json equal).
 */
export function startMessaging(o: {
  transport: 'auto' | 'memory' | 'nats';
  storeDir: string;
}): Promise<ExperimentMessaging> {
  return o.transport === 'nats'
    ? startStackMessaging({ start: 'nats', storeDir: o.storeDir })
    : startStackMessaging({ start: 'memory', brokerName: `verdict-experiment-${process.pid}-${Date.now()}` });
}
