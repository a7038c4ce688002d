import { Worker } from 'node:worker_threads';
import type { Tensor } from '../types.js';
import {
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type ExecutionProviderInfo,
  ExecutionProviderUnavailableError,
} from './execution-provider.js';
import type { RunOptions, SessionOptions } from './session.js';
import {
  type RetainedWrite,
  transferList,
  type WorkerRequest,
  type WorkerResponse,
} from './worker-protocol.js';

export interface SessionPoolOptions {
  /** Worker threads (default 1). Each owns its ORT sessions. */
  workers?: number;
  /** Default intraOpThreads for sessions loaded into the pool (default 1). */
  intraOpThreadsPerWorker?: number;
  /** Default executionProvider of sessions loaded into the pool (default 'cpu'); load options override it. */
  executionProvider?: ExecutionProvider;
  /** Default executionProviderFallback (default 'cpu'); load options override it. */
  executionProviderFallback?: ExecutionProviderFallback;
}

export interface LoadOptions extends SessionOptions {
  /** How many workers get a copy of the session (default 1); runs go to the least busy copy. */
  replicas?: number;
  /**
   * Move model bytes to the worker instead of copying them (default false): the caller's array is
   * detached and must not be used again. Saves a copy of the weights while the session loads. With
   * replicas the last worker gets the move, the others copies; bytes that view part of a larger
   * buffer are always copied.
   */
  transferModel?: boolean;
}

export interface PoolRunOptions extends RunOptions {
  /**
   * Default false: feed buffers are TRANSFERRED to the worker and become detached (length 0)
   * in the caller once run() is called. Set true to send copies and keep the caller's arrays.
   */
  copyInputs?: boolean;
  /**
   * Feeds to hand back with the outputs, under their feed names (transferred back, not copied):
   * buffers the caller reuses across runs, such as KV caches it appends to itself.
   */
  returnFeeds?: readonly string[];
  /**
   * Keep these feeds in the worker under `key` after the run instead of handing them back: state
   * the next runs read again, such as a KV cache. Transferred buffers arrive in the receiving
   * thread as new external memory, and a cache sent both ways on every decode step made V8 run a
   * full GC nearly every step; retained, it crosses once. Runs naming the key go to its worker.
   */
  retain?: { readonly key: string; readonly feeds: readonly string[] };
  /** Feeds not in `feeds` are taken from the tensors retained under this key (on that worker). */
  fromRetained?: string;
  /** Outputs written into (retained) feeds after the run, one axis-2 position each (`RetainedWrite`); left out of the result. */
  writeRetained?: readonly RetainedWrite[];
}

/** A model loaded into one or more pool workers. Outputs arrive as fresh, caller-owned arrays. */
export interface PooledSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Indexes (0-based) of the pool workers holding a copy of this session. */
  readonly workers: readonly number[];
  /** Requested and active provider; when replicas differ, the first one that fell back. */
  readonly executionProvider: ExecutionProviderInfo;
  run(feeds: Readonly<Record<string, Tensor>>, opts?: PoolRunOptions): Promise<Record<string, Tensor>>;
  /** The tensors retained under `key` (transferred back to the caller); the worker forgets them. */
  takeRetained(key: string): Promise<Record<string, Tensor>>;
  /** Forgets the tensors retained under `key` (no-op for an unknown key). */
  dropRetained(key: string): Promise<void>;
  release(): Promise<void>;
}

export interface SessionPool {
  load(model: Uint8Array | string, opts?: LoadOptions): Promise<PooledSession>;
  /** Releases every session and terminates the workers; pending runs are rejected. */
  close(): Promise<void>;
}

interface Pending {
  resolve(r: WorkerResponse & { ok: true }): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  sessions: number;
  dead?: Error;
}

/**
 * Starts a session worker. Under tsx the pool runs as .ts and so must the worker. Workers do
 * inherit execArgv (`--import tsx`), but on Node 20 tsx's hooks do not load a .ts worker entry
 * (ERR_UNKNOWN_FILE_EXTENSION, checked), so a tiny eval bootstrap registers tsx's ESM API first.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./session-worker.js', import.meta.url));
  const entry = new URL('./session-worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}

/** A pool of worker threads running ORT sessions, so run() never blocks the event loop. */
export function createSessionPool(opts: SessionPoolOptions = {}): SessionPool {
  const count = Math.max(1, opts.workers ?? 1);
  const threads = opts.intraOpThreadsPerWorker ?? 1;
  let nextId = 1;
  let closed = false;
  const slots: Slot[] = [];
  /** Which worker holds the tensors retained under each key. */
  const retainedAt = new Map<string, Slot>();
  for (let i = 0; i < count; i++) {
    const worker = startWorker();
    const slot: Slot = { worker, pending: new Map(), sessions: 0 };
    worker.on('message', (res: WorkerResponse) => {
      const p = slot.pending.get(res.id);
      if (!p) return;
      slot.pending.delete(res.id);
      if (res.ok) p.resolve(res);
      else if (res.unavailable)
        p.reject(
          new ExecutionProviderUnavailableError(res.unavailable.requested, res.unavailable.reason, res.error),
        );
      else p.reject(new Error(res.error));
    });
    const fail = (err: Error) => {
      slot.dead = err;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`session worker exited (code ${code})`)));
    slots.push(slot);
  }

  function request(
    slot: Slot,
    req: WorkerRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerResponse & { ok: true }> {
    if (closed) return Promise.reject(new Error('session pool is closed'));
    if (slot.dead) return Promise.reject(slot.dead);
    return new Promise((resolve, reject) => {
      slot.pending.set(req.id, { resolve, reject });
      slot.worker.postMessage(req, transfer);
    });
  }

  /**
   * Sends the model to each chosen worker. A function of its own, not a closure in load(): the
   * session object load() returns shares load()'s scope, and a closure there naming `model` kept
   * the model bytes (a full copy of the weights per session) alive for as long as the session.
   */
  function loadCopies(chosen: Slot[], model: Uint8Array | string, options: SessionOptions, move: boolean) {
    const whole =
      typeof model !== 'string' &&
      model.buffer instanceof ArrayBuffer &&
      model.byteOffset === 0 &&
      model.byteLength === model.buffer.byteLength;
    return Promise.all(
      // Each request is posted before its first await, in order: the move comes after every copy.
      chosen.map(async (slot, i) => {
        const transfer = move && whole && i === chosen.length - 1 ? [model.buffer as ArrayBuffer] : [];
        try {
          const res = await request(slot, { type: 'load', id: nextId++, model, options }, transfer);
          return { slot, handle: res.handle as number, res };
        } catch (err) {
          slot.sessions--;
          throw err;
        }
      }),
    );
  }

  async function load(model: Uint8Array | string, loadOpts: LoadOptions = {}): Promise<PooledSession> {
    const { replicas = 1, transferModel = false, ...sessionOpts } = loadOpts;
    const options: SessionOptions = {
      intraOpThreads: threads,
      ...(opts.executionProvider === undefined ? {} : { executionProvider: opts.executionProvider }),
      ...(opts.executionProviderFallback === undefined
        ? {}
        : { executionProviderFallback: opts.executionProviderFallback }),
      ...sessionOpts,
    };
    const chosen = [...slots]
      .filter((s) => !s.dead)
      .sort((a, b) => a.sessions - b.sessions)
      .slice(0, Math.min(replicas, slots.length));
    if (chosen.length === 0) throw new Error('no live worker to load into');
    // Count the session before awaiting so concurrent loads spread over the workers.
    for (const slot of chosen) slot.sessions++;
    const copies = await loadCopies(chosen, model, options, transferModel);
    const meta = (copies[0] as (typeof copies)[number]).res;
    const providers = copies.map((c) => c.res.executionProvider);
    const executionProvider = providers.find((p) => p?.fallbackReason !== undefined) ??
      providers[0] ?? { requested: options.executionProvider ?? 'cpu', active: 'cpu' };
    return {
      inputNames: meta.inputNames ?? [],
      outputNames: meta.outputNames ?? [],
      executionProvider,
      workers: copies.map((c) => slots.indexOf(c.slot)),
      async run(feeds, runOpts = {}) {
        if (closed) throw new Error('session pool is closed');
        const live = copies.filter((c) => !c.slot.dead);
        const holder = runOpts.fromRetained === undefined ? undefined : retainedAt.get(runOpts.fromRetained);
        if (runOpts.fromRetained !== undefined && holder === undefined)
          throw new Error(`no tensors retained under ${JSON.stringify(runOpts.fromRetained)}`);
        // Retained state pins the run to its worker; otherwise the least busy copy.
        const target = holder
          ? live.find((c) => c.slot === holder)
          : live.sort((a, b) => a.slot.pending.size - b.slot.pending.size)[0];
        if (!target) throw new Error('no live worker holds this session');
        const transfer = runOpts.copyInputs ? [] : transferList(Object.values(feeds));
        const req: WorkerRequest = { type: 'run', id: nextId++, handle: target.handle, feeds: { ...feeds } };
        if (runOpts.outputs) req.outputs = runOpts.outputs;
        if (runOpts.outputsInto) req.outputsInto = runOpts.outputsInto;
        if (runOpts.returnFeeds) req.returnFeeds = runOpts.returnFeeds;
        if (runOpts.fromRetained !== undefined) req.fromRetained = runOpts.fromRetained;
        if (runOpts.writeRetained) req.writeRetained = runOpts.writeRetained;
        if (runOpts.retain) {
          req.retain = { key: runOpts.retain.key, feeds: runOpts.retain.feeds };
          retainedAt.set(runOpts.retain.key, target.slot);
        }
        const res = await request(target.slot, req, transfer);
        return res.outputs ?? {};
      },
      async takeRetained(key) {
        const slot = retainedAt.get(key);
        if (slot === undefined) throw new Error(`no tensors retained under ${JSON.stringify(key)}`);
        retainedAt.delete(key);
        const res = await request(slot, { type: 'take-retained', id: nextId++, key });
        return res.outputs ?? {};
      },
      async dropRetained(key) {
        const slot = retainedAt.get(key);
        retainedAt.delete(key);
        if (slot === undefined || slot.dead || closed) return;
        await request(slot, { type: 'drop-retained', id: nextId++, key });
      },
      async release() {
        await Promise.all(
          copies.map(async (c) => {
            if (c.slot.dead || closed) return;
            await request(c.slot, { type: 'release', id: nextId++, handle: c.handle });
            c.slot.sessions--;
          }),
        );
      },
    };
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  return { load, close };
}
