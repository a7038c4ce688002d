// Raw gRPC calls: request bytes go out exactly as generated (identity serialisers), replies come
// back as bytes, and every call ends with one status: the server's, or ours when we cancel a
// stream after enough messages or give up on a call that outlived its deadline.
import type { EventEmitter } from 'node:events';
import { Client, credentials, Metadata, type StatusObject, status } from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;

export interface CallPlan {
  readonly path: string;
  readonly kind: 'unary' | 'server_streaming' | 'client_streaming' | 'bidi_streaming';
  /** One message for unary and server-streaming calls; any number for bidi. */
  readonly messages: readonly Uint8Array[];
  readonly metadata?: readonly (readonly [string, string | Buffer])[];
  readonly deadlineMs: number;
  /** Stop reading (cancel) after this many replies: long streams (Watch) never end by themselves. */
  readonly maxReplies: number;
  /** How long after the deadline a call may still be open before it counts as hung. */
  readonly graceMs: number;
}

export interface CallOutcome {
  readonly code: number;
  readonly details: string;
  readonly replies: Buffer[];
  readonly replyBytes: number;
  readonly trailerBytes: number;
  /** We cancelled after maxReplies replies (the CANCELLED status is ours). */
  readonly cancelledByUs: boolean;
  /** No status by deadline + grace: we cancelled a hung call. */
  readonly hung: boolean;
  readonly elapsedMs: number;
}

function metadataBytes(m: Metadata | undefined): number {
  if (m === undefined) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(m.getMap()))
    n += k.length + (typeof v === 'string' ? v.length : v.length);
  return n;
}

export function makeClient(address: string): Client {
  return new Client(address, credentials.createInsecure(), {
    // Large replies are measured, not refused by the client.
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // A connection of its own: grpc-js shares one per address between clients by default, and the
    // fuzzer replaces its connection now and then (fuzz-run.ts, RESETS_PER_CONNECTION).
    'grpc.use_local_subchannel_pool': 1,
  });
}

export function rawCall(client: Client, plan: CallPlan): Promise<CallOutcome> {
  const started = performance.now();
  const replies: Buffer[] = [];
  let replyBytes = 0;
  let cancelledByUs = false;
  let hung = false;
  const sent = new Promise<CallOutcome>((resolve) => {
    const deadline = Date.now() + plan.deadlineMs;
    const options = { deadline };
    const md = new Metadata();
    // grpc-js itself refuses a second authorization value (client-side INTERNAL): keep the last.
    for (const [key, value] of plan.metadata ?? []) {
      if (key === 'authorization') md.set(key, value);
      else md.add(key, value);
    }
    let call: EventEmitter & { cancel(): void };
    if (plan.kind === 'unary') {
      call = client.makeUnaryRequest(
        plan.path,
        identity,
        identity,
        Buffer.from(plan.messages[0] ?? new Uint8Array(0)),
        md,
        options,
        (_err, value) => {
          if (value !== undefined) {
            replies.push(value);
            replyBytes += value.length;
          }
        },
      );
    } else if (plan.kind === 'server_streaming') {
      call = client.makeServerStreamRequest(
        plan.path,
        identity,
        identity,
        Buffer.from(plan.messages[0] ?? new Uint8Array(0)),
        md,
        options,
      );
    } else {
      const duplex = client.makeBidiStreamRequest(plan.path, identity, identity, md, options);
      duplex.on('error', () => undefined);
      for (const m of plan.messages) duplex.write(Buffer.from(m));
      duplex.end();
      call = duplex;
    }
    if (plan.kind !== 'unary') {
      call.on('data', (b: Buffer) => {
        replies.push(b);
        replyBytes += b.length;
        if (replies.length >= plan.maxReplies && !cancelledByUs) {
          cancelledByUs = true;
          call.cancel();
        }
      });
      call.on('error', () => undefined);
    }
    const watchdog = setTimeout(() => {
      hung = true;
      call.cancel();
    }, plan.deadlineMs + plan.graceMs);
    call.on('status', (s: StatusObject) => {
      clearTimeout(watchdog);
      resolve({
        code: s.code,
        details: s.details,
        replies,
        replyBytes,
        trailerBytes: metadataBytes(s.metadata),
        cancelledByUs: cancelledByUs && s.code === status.CANCELLED,
        hung,
        elapsedMs: performance.now() - started,
      });
    });
  });
  // A case grpc-js refuses to send (code -1) fails with the reason instead of ending the run.
  return sent.catch((error: unknown) => ({
    code: -1,
    details: `the client could not send this case: ${error instanceof Error ? error.message : String(error)}`,
    replies: [],
    replyBytes: 0,
    trailerBytes: 0,
    cancelledByUs: false,
    hung: false,
    elapsedMs: performance.now() - started,
  }));
}
