import { parentPort } from 'node:worker_threads';
import type { Tensor } from '../types.js';
import { ExecutionProviderUnavailableError } from './execution-provider.js';
import { createSession, type Session } from './session.js';
import { transferList, type WorkerRequest, type WorkerResponse } from './worker-protocol.js';

// Runs ORT sessions off the main thread: ORT's run() blocks the thread that calls it.

const port = parentPort;
if (!port) throw new Error('session-worker must run in a worker thread');

const sessions = new Map<number, Session>();
let nextHandle = 1;

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
      const s = await createSession(req.model, req.options);
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
      const outputs = await s.run(req.feeds, {
        ...(req.outputs ? { outputs: req.outputs } : {}),
        ...(req.outputsInto ? { outputsInto: req.outputsInto } : {}),
      });
      for (const name of req.returnFeeds ?? []) {
        const t = req.feeds[name];
        if (!t) throw new Error(`returnFeeds: ${name} is not a feed`);
        if (name in outputs) throw new Error(`returnFeeds: ${name} is also an output name`);
        outputs[name] = t;
      }
      reply({ id: req.id, ok: true, outputs }, outputs);
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
