// Real gRPC servers on port 0 and real clients. The test service is a tiny hand-written
// ServiceDefinition with JSON serializers; health uses the generated grpc.health.v1 code.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  type CallOptions,
  type Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  type Metadata,
  makeGenericClientConstructor,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { health } from '@verdict/proto';
import {
  type CallContext,
  createGrpcClient,
  createGrpcServer,
  createLifecycle,
  createReplyGuard,
  type GrpcServer,
  type GrpcServerOptions,
  isVerdictError,
  type RuntimeLogger,
  serverStream,
  unary,
  VerdictError,
} from '../src/index.js';

interface Note {
  text: string;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Note => JSON.parse(bytes.toString()) as Note,
};
const method = (name: string, responseStream: boolean) => ({
  path: `/test.v1.Notes/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const NotesService = {
  echo: method('Echo', false),
  list: method('List', true),
} satisfies ServiceDefinition;

type UnaryCb = (error: ServiceError | null, response: Note) => void;
interface NotesClient extends Client {
  echo(request: Note, metadata: Metadata, options: Partial<CallOptions>, callback: UnaryCb): ClientUnaryCall;
  list(request: Note, metadata?: Metadata, options?: Partial<CallOptions>): ClientReadableStream<Note>;
}
const NotesClient = makeGenericClientConstructor(NotesService, 'Notes') as unknown as new (
  ...args: ConstructorParameters<typeof Client>
) => NotesClient;
const HealthClient = health.HealthClient;
const { SERVING, NOT_SERVING } = health.HealthCheckResponse_ServingStatus;

function capturingLogger(): RuntimeLogger & { errors: Array<Record<string, unknown> | undefined> } {
  const errors: Array<Record<string, unknown> | undefined> = [];
  const none = (): void => {};
  return { debug: none, info: none, warn: none, error: (_m, fields) => errors.push(fields), errors };
}

function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

const servers: GrpcServer[] = [];
async function startServer(
  impl: Record<string, unknown>,
  options: Partial<GrpcServerOptions> = {},
): Promise<GrpcServer> {
  const server = createGrpcServer({ port: 0, host: '127.0.0.1', logger: capturingLogger(), ...options });
  server.addService(NotesService, impl as never);
  if (options.lifecycle === undefined) await server.start();
  servers.push(server);
  return server;
}
after(async () => {
  await Promise.all(servers.map((s) => s.stop({ deadlineMs: Date.now() + 1_000 })));
});

async function catchError(promise: Promise<unknown>): Promise<VerdictError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isVerdictError(error), `expected VerdictError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('createGrpcServer: health', () => {
  it('binds port 0 to a real port and reports SERVING per service', async () => {
    const server = await startServer({
      echo: unary((n: Note) => n),
      list: serverStream(async function* () {}),
    });
    assert.ok(server.port > 0);
    const client = createGrpcClient(HealthClient, server.address);
    assert.equal((await client.unary('check', { service: '' })).status, SERVING);
    assert.equal((await client.unary('check', { service: 'test.v1.Notes' })).status, SERVING);
    server.health.setReady('test.v1.Notes', false);
    assert.equal((await client.unary('check', { service: 'test.v1.Notes' })).status, NOT_SERVING);
    assert.equal((await client.unary('check', { service: '' })).status, NOT_SERVING);
    const unknown = await catchError(client.unary('check', { service: 'nope.Service' }));
    assert.equal(unknown.code, 'NOT_FOUND');
    client.close();
  });

  it('follows the lifecycle: SERVING when started, NOT_SERVING on Watch when draining', async () => {
    const lifecycle = createLifecycle({ graceTimeoutMs: 5_000 });
    const bound = gate();
    const ready = gate();
    const server = await startServer({ echo: unary((n: Note) => n) }, { lifecycle });
    lifecycle.register(server);
    lifecycle.register({ name: 'bound', start: () => bound.open() });
    // A component after the server: health must stay NOT_SERVING until it has started too.
    lifecycle.register({ name: 'model', start: () => ready.wait });
    const starting = lifecycle.start();
    await bound.wait;
    const client = createGrpcClient(HealthClient, server.address);
    assert.equal((await client.unary('check', { service: '' })).status, NOT_SERVING);
    const updates = client
      .serverStream('watch', { service: 'test.v1.Notes' }, { deadlineMs: 10_000 })
      [Symbol.asyncIterator]();
    const seen: number[] = [];
    const first = await updates.next();
    if (!first.done) seen.push(first.value.status);
    ready.open();
    await starting;
    const second = await updates.next();
    if (!second.done) seen.push(second.value.status);
    const stopped = lifecycle.stop();
    // The stream delivers NOT_SERVING, then ends by itself so the drain is not held open.
    for (let next = await updates.next(); !next.done; next = await updates.next())
      seen.push(next.value.status);
    assert.deepEqual(seen, [NOT_SERVING, SERVING, NOT_SERVING]);
    const report = await stopped;
    assert.deepEqual(report.stopped, ['model', 'bound', 'grpc-server']);
    assert.equal(report.state, 'STOPPED');
    client.close();
  });
});

describe('createGrpcServer: graceful shutdown', () => {
  it('lets an in-flight server stream finish while refusing new calls', async () => {
    const release = gate();
    const server = await startServer({
      echo: unary((n: Note) => n),
      list: serverStream(async function* () {
        yield { text: '0' };
        await release.wait;
        for (let i = 1; i < 5; i += 1) yield { text: String(i) };
      }),
    });
    const client = createGrpcClient(NotesClient, server.address, { defaultDeadlineMs: 10_000 });
    const received: string[] = [];
    const iterator = client.serverStream('list', { text: '' })[Symbol.asyncIterator]();
    const first = await iterator.next();
    received.push(first.done ? 'done' : first.value.text);
    const stopping = server.stop();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(server.health.status(''), NOT_SERVING);
    const fresh = createGrpcClient(NotesClient, server.address, { defaultDeadlineMs: 2_000 });
    const refused = await catchError(fresh.unary('echo', { text: 'late' }));
    assert.equal(refused.code, 'UNAVAILABLE');
    release.open();
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      received.push(next.value.text);
    assert.deepEqual(received, ['0', '1', '2', '3', '4']);
    assert.deepEqual(await stopping, { abandonedCalls: 0, forced: false });
    client.close();
    fresh.close();
  });

  it('force-stops calls still running at the grace timeout and reports them', async () => {
    const server = await startServer(
      {
        list: serverStream(async function* () {
          yield { text: 'start' };
          await new Promise(() => {}); // ignores cancellation on purpose
        }),
      },
      { graceTimeoutMs: 100 },
    );
    const client = createGrpcClient(NotesClient, server.address, { defaultDeadlineMs: 10_000 });
    const iterator = client.serverStream('list', { text: '' })[Symbol.asyncIterator]();
    await iterator.next();
    const report = await server.stop();
    assert.deepEqual(report, { abandonedCalls: 1, forced: true });
    const cut = await catchError(iterator.next());
    assert.ok(['UNAVAILABLE', 'CANCELLED', 'INTERNAL'].includes(cut.code), cut.code);
    client.close();
  });
});

describe('handler adapters and the error boundary', () => {
  it('a plain Error becomes INTERNAL without its message or stack; the server logs it', async () => {
    const logger = capturingLogger();
    const server = await startServer(
      {
        echo: unary(() => {
          throw new Error('db password is hunter2');
        }),
      },
      { logger },
    );
    const client = createGrpcClient(NotesClient, server.address);
    const error = await catchError(client.unary('echo', { text: 'x' }));
    assert.equal(error.code, 'INTERNAL');
    assert.equal(error.message, 'internal error');
    const seenByClient = JSON.stringify({ m: error.message, d: error.details, c: String(error.cause) });
    assert.doesNotMatch(seenByClient, /hunter2|at .*\.ts/);
    const logged = logger.errors.find(
      (f) => f?.['method'] === '/test.v1.Notes/Echo' && f['error'] instanceof Error,
    );
    assert.ok(logged !== undefined, 'the server logged the original error');
    assert.match((logged['error'] as Error).message, /hunter2/);
    client.close();
  });

  it('VerdictError(INVALID_ARGUMENT) arrives with its message, field and details', async () => {
    const server = await startServer({
      echo: unary((n: Note) => {
        throw new VerdictError('INVALID_ARGUMENT', `text is ${n.text.length} chars, max 3`, {
          field: 'text',
          details: { maxChars: 3 },
        });
      }),
    });
    const client = createGrpcClient(NotesClient, server.address);
    const error = await catchError(client.unary('echo', { text: 'toolong' }));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.field, 'text');
    assert.equal(error.message, 'text is 7 chars, max 3');
    assert.deepEqual(error.details, { maxChars: 3 });
    client.close();
  });

  it('a client deadline gives DEADLINE_EXCEEDED and aborts the handler signal', async () => {
    let handlerSaw: unknown;
    const server = await startServer({
      echo: unary(async (n: Note, ctx: CallContext) => {
        try {
          await sleep(60_000, ctx.signal);
        } catch (reason) {
          handlerSaw = reason;
        }
        return n;
      }),
    });
    const client = createGrpcClient(NotesClient, server.address);
    const error = await catchError(client.unary('echo', { text: 'slow' }, { deadlineMs: 100 }));
    assert.equal(error.code, 'DEADLINE_EXCEEDED');
    while (handlerSaw === undefined) await sleep(5);
    assert.ok(isVerdictError(handlerSaw));
    assert.ok(['DEADLINE_EXCEEDED', 'CANCELLED'].includes(handlerSaw.code));
    client.close();
  });

  it('a stream that fails mid-way delivers what it wrote, then the mapped error', async () => {
    const server = await startServer({
      list: serverStream(async function* () {
        yield { text: 'a' };
        yield { text: 'b' };
        throw new VerdictError('ABORTED', 'weights changed under the stream');
      }),
    });
    const client = createGrpcClient(NotesClient, server.address);
    const got: string[] = [];
    const error = await catchError(
      (async () => {
        for await (const note of client.serverStream('list', { text: '' })) got.push(note.text);
      })(),
    );
    assert.deepEqual(got, ['a', 'b']);
    assert.equal(error.code, 'ABORTED');
    client.close();
  });

  it('a cancelled stream stops its generator (finally runs) and never writes after cancel', async () => {
    let closed = false;
    let yieldedAfterCancel = 0;
    let cancelled = false;
    const server = await startServer({
      echo: unary((n: Note) => n),
      list: serverStream(async function* (_n: Note, ctx: CallContext) {
        ctx.signal.addEventListener('abort', () => {
          cancelled = true;
        });
        try {
          for (let i = 0; ; i += 1) {
            if (cancelled) yieldedAfterCancel += 1;
            yield { text: String(i) };
            await sleep(1);
          }
        } finally {
          closed = true;
        }
      }),
    });
    const client = createGrpcClient(NotesClient, server.address);
    for await (const note of client.serverStream('list', { text: '' })) if (note.text === '3') break;
    while (!closed) await sleep(5);
    assert.ok(cancelled);
    assert.ok(yieldedAfterCancel <= 1, `generator resumed ${yieldedAfterCancel} times after cancel`);
    assert.deepEqual(await client.unary('echo', { text: 'still up' }), { text: 'still up' });
    client.close();
  });

  it('call observers (the tracing hook) see each call start and end with its status', async () => {
    const events: string[] = [];
    const server = await startServer(
      {
        echo: unary((n: Note) => {
          if (n.text === 'bad') throw new VerdictError('NOT_FOUND', 'no such note');
          return n;
        }),
      },
      {
        observers: [
          {
            onCallStart: ({ method, metadata }) => {
              events.push(`start ${method} ${String(metadata.get('traceparent')[0])}`);
              return { onCallEnd: ({ code }) => events.push(`end ${code}`) };
            },
          },
        ],
      },
    );
    const client = createGrpcClient(NotesClient, server.address);
    await client.unary('echo', { text: 'ok' }, { metadata: { traceparent: 't1' } });
    await catchError(client.unary('echo', { text: 'bad' }, { metadata: { traceparent: 't2' } }));
    assert.deepEqual(events, [
      'start /test.v1.Notes/Echo t1',
      'end 0',
      'start /test.v1.Notes/Echo t2',
      'end 5',
    ]);
    client.close();
  });

  it('enforces the maximum receive message size', async () => {
    const server = await startServer({ echo: unary((n: Note) => n) }, { maxReceiveMessageBytes: 1024 });
    const client = createGrpcClient(NotesClient, server.address);
    assert.deepEqual(await client.unary('echo', { text: 'small' }), { text: 'small' });
    const error = await catchError(client.unary('echo', { text: 'x'.repeat(4096) }));
    assert.equal(error.code, 'RESOURCE_EXHAUSTED');
    client.close();
  });

  it('the reply guard answers once and drops later replies', () => {
    const calls: unknown[] = [];
    const warnings: string[] = [];
    const logger = { ...capturingLogger(), warn: (m: string) => warnings.push(m) };
    const ctx = { method: '/t/M', signal: new AbortController().signal } as CallContext;
    const guard = createReplyGuard<string>((error, value) => calls.push(error ?? value), ctx, { logger });
    assert.equal(guard.ok('first'), true);
    assert.equal(guard.ok('second'), false);
    assert.equal(guard.fail(new Error('late')), false);
    assert.deepEqual(calls, ['first']);
    assert.equal(warnings.length, 2);
  });
});
