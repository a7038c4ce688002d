import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { VerdictError } from '../errors/index.js';

export type StreamRetention = 'limits' | 'workqueue' | 'interest';

export interface StreamSpec {
  name: string;
  subjects: string[];
  retention?: StreamRetention;
  storage?: 'file' | 'memory';
  /** 0 = keep forever. */
  maxAgeMs?: number;
  /** JetStream dedupe window for `Nats-Msg-Id`; server default is 2 minutes. */
  duplicateWindowMs?: number;
  maxMsgs?: number;
  maxBytes?: number;
  maxMsgSizeBytes?: number;
  discard?: 'old' | 'new';
  replicas?: number;
  description?: string;
}

export interface ConsumerSpec {
  stream: string;
  /** Durable name; the consumer survives client restarts. */
  name: string;
  filterSubject?: string;
  /** How long the server waits for an ack before redelivering. */
  ackWaitMs?: number;
  /** Total deliveries allowed per message (first delivery included); -1 = unlimited. */
  maxDeliver?: number;
  /** Redelivery delays after ack-wait timeouts (server-side backoff). Needs maxDeliver > length. */
  backoffMs?: number[];
  maxAckPending?: number;
  deliverPolicy?: 'all' | 'new' | 'last';
  description?: string;
}

export interface EnsureResult {
  created: boolean;
  updated: boolean;
}

const RETENTION: Record<StreamRetention, RetentionPolicy> = {
  limits: RetentionPolicy.Limits,
  workqueue: RetentionPolicy.Workqueue,
  interest: RetentionPolicy.Interest,
};

const DELIVER: Record<NonNullable<ConsumerSpec['deliverPolicy']>, DeliverPolicy> = {
  all: DeliverPolicy.All,
  new: DeliverPolicy.New,
  last: DeliverPolicy.Last,
};

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

function streamConfigFrom(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  const cfg: Partial<StreamConfig> & { name: string } = {
    name: spec.name,
    subjects: spec.subjects,
    retention: RETENTION[spec.retention ?? 'limits'],
    storage: spec.storage === 'memory' ? StorageType.Memory : StorageType.File,
    discard: spec.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    num_replicas: spec.replicas ?? 1,
  };
  if (spec.maxAgeMs !== undefined) cfg.max_age = nanos(spec.maxAgeMs);
  if (spec.duplicateWindowMs !== undefined) cfg.duplicate_window = nanos(spec.duplicateWindowMs);
  if (spec.maxMsgs !== undefined) cfg.max_msgs = spec.maxMsgs;
  if (spec.maxBytes !== undefined) cfg.max_bytes = spec.maxBytes;
  if (spec.maxMsgSizeBytes !== undefined) cfg.max_msg_size = spec.maxMsgSizeBytes;
  if (spec.description !== undefined) cfg.description = spec.description;
  return cfg;
}

/** Fields of `want` whose value differs from `have` (arrays compared by content). */
function changedKeys<T extends object>(want: Partial<T>, have: T): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(want)) {
    if (value === undefined) continue;
    if (JSON.stringify(value) !== JSON.stringify((have as Record<string, unknown>)[key])) out.push(key);
  }
  return out;
}

/**
 * Creates the stream, or updates it when the declared config differs. Safe to call from every
 * replica at start-up. Retention and storage cannot change on a live stream: that is an error
 * naming the field, never a silent mismatch.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<EnsureResult> {
  if (spec.subjects.length === 0) {
    throw new VerdictError('INVALID_ARGUMENT', `ensureStream(${spec.name}): subjects must not be empty`, {
      field: 'subjects',
    });
  }
  const want = streamConfigFrom(spec);
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(spec.name);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
  }
  if (info === undefined) {
    try {
      await jsm.streams.add(want);
      return { created: true, updated: false };
    } catch (err) {
      // Another replica won the race; fall through to the compare-and-update path.
      info = await jsm.streams.info(spec.name).catch(() => {
        throw err;
      });
    }
  }
  const changed = changedKeys(want, info.config);
  if (changed.length === 0) return { created: false, updated: false };
  for (const immutable of ['retention', 'storage'] as const) {
    if (changed.includes(immutable)) {
      throw new VerdictError(
        'FAILED_PRECONDITION',
        `ensureStream(${spec.name}): ${immutable} is ${info.config[immutable]} on the server, ` +
          `declared ${want[immutable]}; it cannot be changed on an existing stream`,
        { field: immutable },
      );
    }
  }
  const { name: _name, retention: _r, storage: _s, ...update } = want;
  await jsm.streams.update(spec.name, update);
  return { created: false, updated: true };
}

/** Creates or updates a durable pull consumer with explicit acks. */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<EnsureResult> {
  if (spec.backoffMs !== undefined && spec.maxDeliver !== undefined && spec.maxDeliver !== -1) {
    if (spec.maxDeliver <= spec.backoffMs.length) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `ensureConsumer(${spec.name}): maxDeliver (${spec.maxDeliver}) must exceed backoffMs.length (${spec.backoffMs.length})`,
        { field: 'maxDeliver' },
      );
    }
  }
  const update = {
    ...(spec.ackWaitMs !== undefined ? { ack_wait: nanos(spec.ackWaitMs) } : {}),
    ...(spec.maxDeliver !== undefined ? { max_deliver: spec.maxDeliver } : {}),
    ...(spec.backoffMs !== undefined ? { backoff: spec.backoffMs.map((ms) => nanos(ms)) } : {}),
    ...(spec.maxAckPending !== undefined ? { max_ack_pending: spec.maxAckPending } : {}),
    ...(spec.filterSubject !== undefined ? { filter_subject: spec.filterSubject } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
  };
  try {
    const info = await jsm.consumers.info(spec.stream, spec.name);
    if (changedKeys(update, info.config).length === 0) return { created: false, updated: false };
    await jsm.consumers.update(spec.stream, spec.name, update);
    return { created: false, updated: true };
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
  }
  await jsm.consumers.add(spec.stream, {
    ...update,
    durable_name: spec.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DELIVER[spec.deliverPolicy ?? 'all'],
  });
  return { created: true, updated: false };
}
