import { MessageChannel, parentPort } from 'node:worker_threads';
import type { Tensor } from '../types.js';
import { ExecutionProviderUnavailableError } from './execution-provider.js';
import { createSession, type Session } from './session.js';
import { transferList, type WorkerRequest, type WorkerResponse } from './worker-protocol.js';

// Runs ORT sessions off the main thread: ORT's run() blocks the thread that calls it.

const port = parentPort;
if (!port) throw new Error('session-worker must run in a worker thread');

const sessions = new Map<number, Session>();
let nextHandle = 1;
/** Tensors kept between runs (`retain`), by the caller's key: a KV cache that never leaves this thread. */
const retained = new Map<string, Record<string, Tensor>>();

function retainedOf(key: string): Record<string, Tensor> {
  const r = retained.get(key);
  if (!r) throw new Error(`no tensors retained under ${JSON.stringify(key)} in this worker`);
  return r;
}

/** `RetainedWrite`: a [a, b, 1, d] output into a [a, b, capacity, d] tensor at axis-2 position `at`. */
function writeInto(into: Tensor, from: Tensor, at: number, what: string): void {
  const [a, b, capacity, d] = into.dims;
  const [fa, fb, one, fd] = from.dims;
  if (into.dims.length !== 4 || from.dims.length !== 4 || fa !== a || fb !== b || one !== 1 || fd !== d)
    throw new Error(
      `writeRetained ${what}: [${from.dims}] does not fit [${into.dims}] one position at a time`,
    );
  if (!Number.isInteger(at) || at < 0 || at >= capacity!)
    throw new Error(`writeRetained ${what}: position ${at} outside [0, ${capacity})`);
  const src = from.data as Float32Array;
  const dst = into.data as Float32Array;
  for (let r = 0; r < a! * b!; r++) dst.set(src.subarray(r * d!, (r + 1) * d!), (r * capacity! + at) * d!);
}

/**
 * Frees model bytes this worker received now rather than at its next GC: an idle worker may not
 * collect for a long time, and the bytes are a full copy of the model's weights (ORT has its own
 * once the session exists). Transferred into a message on a channel closed at once, the buffer is
 * dropped with the message; the caller's array is detached.
 */
function discard(bytes: Uint8Array): void {
  const { port1, port2 } = new MessageChannel();
  try {
    if (bytes.buffer instanceof ArrayBuffer) port1.postMessage(null, [bytes.buffer]);
  } catch {
    // An untransferable buffer is left to the GC.
  } finally {
    port1.close();
    port2.close();
  }
}

function reply(msg: WorkerResponse, outputs?: Record<string, Tensor>): void {
  if (!outputs) {
    port?.postMessage(msg);
    return;
  }
  try {
    port?.postMessage(msg, transferList(Object.values(outputs)));
  } catch {
    // Buffers owned by native code may not be detachable: fall back to a structured-clone copy.
    port?.postMessage(msg);
  }
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    if (req.type === 'load') {
      let s: Session;
      try {
        s = await createSession(req.model, req.options);
      } finally {
        if (typeof req.model !== 'string') discard(req.model);
      }
      const h = nextHandle++;
      sessions.set(h, s);
      reply({
        id: req.id,
        ok: true,
        handle: h,
        inputNames: [...s.inputNames],
        outputNames: [...s.outputNames],
        executionProvider: s.executionProvider,
      });
    } else if (req.type === 'run') {
      const s = sessions.get(req.handle);
      if (!s) throw new Error(`no session ${req.handle} in this worker`);
      const feeds = req.fromRetained ? { ...retainedOf(req.fromRetained), ...req.feeds } : req.feeds;
      const outputs = await s.run(feeds, {
        ...(req.outputs ? { outputs: req.outputs } : {}),
        ...(req.outputsInto ? { outputsInto: req.outputsInto } : {}),
      });
      for (const w of req.writeRetained ?? []) {
        const from = outputs[w.output];
        const into = feeds[w.into];
        if (!from || !into) throw new Error(`writeRetained: no output ${w.output} or feed ${w.into}`);
        writeInto(into, from, w.at, `${w.output} → ${w.into}`);
        delete outputs[w.output];
      }
      if (req.retain) {
        const kept: Record<string, Tensor> = {};
        for (const name of req.retain.feeds) {
          const t = feeds[name];
          if (!t) throw new Error(`retain: ${name} is not a feed`);
          kept[name] = t;
        }
        retained.set(req.retain.key, kept);
      }
      for (const name of req.returnFeeds ?? []) {
        const t = feeds[name];
        if (!t) throw new Error(`returnFeeds: ${name} is not a feed`);
        if (name in outputs) throw new Error(`returnFeeds: ${name} is also an output name`);
        outputs[name] = t;
      }
      reply({ id: req.id, ok: true, outputs }, outputs);
    } else if (req.type === 'take-retained') {
      const outputs = retainedOf(req.key);
      retained.delete(req.key);
      reply({ id: req.id, ok: true, outputs }, outputs);
    } else if (req.type === 'drop-retained') {
      retained.delete(req.key);
      reply({ id: req.id, ok: true });
    } else {
      await sessions.get(req.handle)?.release();
      sessions.delete(req.handle);
      reply({ id: req.id, ok: true });
    }
  } catch (err) {
    reply({
      id: req.id,
      ok: false,
      error: err instanceof Error ? err.message : String(err),
      ...(err instanceof ExecutionProviderUnavailableError
        ? { unavailable: { requested: err.requested, reason: err.reason } }
        : {}),
    });
  }
}

port.on('message', (req: WorkerRequest) => {
  void handle(req);
});
