// createGrpcClient against a real server on port 0: retries, deadlines, streams as iterables.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type CallOptions,
  type Client,
  type ClientDuplexStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  type Metadata,
  makeGenericClientConstructor,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  bidi,
  type CallContext,
  clientStream,
  createGrpcClient,
  createGrpcServer,
  type ErrorCode,
  type GrpcServer,
  isVerdictError,
  silentLogger,
  unary,
  VerdictError,
} from '../src/index.js';

interface Num {
  n: number;
  failWith?: ErrorCode;
  failTimes?: number;
  key?: string;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Num => JSON.parse(bytes.toString()) as Num,
};
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.v1.Math/${name}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const MathService = {
  flaky: method('Flaky', false, false),
  sum: method('Sum', true, false),
  double: method('Double', true, true),
} satisfies ServiceDefinition;

type Cb = (error: ServiceError | null, response: Num) => void;
interface MathClient extends Client {
  flaky(request: Num, metadata: Metadata, options: Partial<CallOptions>, callback: Cb): ClientUnaryCall;
  sum(metadata: Metadata, options: Partial<CallOptions>, callback: Cb): ClientWritableStream<Num>;
  double(metadata?: Metadata, options?: Partial<CallOptions>): ClientDuplexStream<Num, Num>;
}
const MathClient = makeGenericClientConstructor(MathService, 'Math') as unknown as new (
  ...args: ConstructorParameters<typeof Client>
) => MathClient;

// Attempts per request key, so each test counts its own calls.
const attempts = new Map<string, number>();
let server: GrpcServer;

before(async () => {
  server = createGrpcServer({ port: 0, host: '127.0.0.1', logger: silentLogger });
  server.addService(MathService, {
    flaky: unary((request: Num, ctx: CallContext) => {
      const key = request.key ?? '';
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      if (request.failWith !== undefined && attempt <= (request.failTimes ?? Number.POSITIVE_INFINITY)) {
        throw new VerdictError(request.failWith, `attempt ${attempt} failed`);
      }
      const tenant = ctx.metadata.get('x-tenant')[0];
      return { n: request.n * 10 + (tenant === 'acme' ? 1 : 0) };
    }),
    sum: clientStream(async (requests: AsyncIterable<Num>) => {
      let total = 0;
      for await (const r of requests) total += r.n;
      return { n: total };
    }),
    double: bidi(async function* (requests: AsyncIterable<Num>) {
      for await (const r of requests) yield { n: r.n * 2 };
    }),
  });
  await server.start();
});
after(() => server.stop({ deadlineMs: Date.now() + 1_000 }));

async function catchError(promise: Promise<unknown>): Promise<VerdictError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isVerdictError(error), `expected VerdictError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

const fastRetry = { initialBackoffMs: 1, maxBackoffMs: 5, maxAttempts: 4 };

describe('createGrpcClient', () => {
  it('unary calls resolve as promises and carry metadata', async () => {
    const client = createGrpcClient(MathClient, server.address);
    assert.deepEqual(await client.unary('flaky', { n: 4 }), { n: 40 });
    assert.deepEqual(await client.unary('flaky', { n: 4 }, { metadata: { 'x-tenant': 'acme' } }), { n: 41 });
    client.close();
  });

  it('retries an idempotent call on UNAVAILABLE until it succeeds', async () => {
    const client = createGrpcClient(MathClient, server.address, {
      retry: fastRetry,
      idempotentMethods: ['flaky'],
    });
    const result = await client.unary('flaky', { n: 1, failWith: 'UNAVAILABLE', failTimes: 2, key: 'u' });
    assert.deepEqual(result, { n: 10 });
    assert.equal(attempts.get('u'), 3);
    client.close();
  });

  it('gives up after maxAttempts with the last error', async () => {
    const client = createGrpcClient(MathClient, server.address, { retry: fastRetry });
    const error = await catchError(
      client.unary('flaky', { n: 1, failWith: 'UNAVAILABLE', key: 'max' }, { idempotent: true }),
    );
    assert.equal(error.code, 'UNAVAILABLE');
    assert.equal(error.message, 'attempt 4 failed');
    assert.equal(attempts.get('max'), 4);
    client.close();
  });

  it('does not retry INVALID_ARGUMENT, nor any non-idempotent call', async () => {
    const client = createGrpcClient(MathClient, server.address, {
      retry: fastRetry,
      idempotentMethods: ['flaky'],
    });
    const invalid = await catchError(
      client.unary('flaky', { n: 1, failWith: 'INVALID_ARGUMENT', key: 'inv' }),
    );
    assert.equal(invalid.code, 'INVALID_ARGUMENT');
    assert.equal(attempts.get('inv'), 1);
    const once = await catchError(
      client.unary(
        'flaky',
        { n: 1, failWith: 'UNAVAILABLE', failTimes: 1, key: 'ni' },
        { idempotent: false },
      ),
    );
    assert.equal(once.code, 'UNAVAILABLE');
    assert.equal(attempts.get('ni'), 1);
    client.close();
  });

  it('retries RESOURCE_EXHAUSTED only when opted in', async () => {
    const plain = createGrpcClient(MathClient, server.address, {
      retry: fastRetry,
      idempotentMethods: ['flaky'],
    });
    const error = await catchError(
      plain.unary('flaky', { n: 2, failWith: 'RESOURCE_EXHAUSTED', failTimes: 1, key: 're1' }),
    );
    assert.equal(error.code, 'RESOURCE_EXHAUSTED');
    assert.equal(attempts.get('re1'), 1);
    const optedIn = createGrpcClient(MathClient, server.address, {
      retry: { ...fastRetry, retryResourceExhausted: true },
      idempotentMethods: ['flaky'],
    });
    assert.deepEqual(
      await optedIn.unary('flaky', { n: 2, failWith: 'RESOURCE_EXHAUSTED', failTimes: 1, key: 're2' }),
      { n: 20 },
    );
    assert.equal(attempts.get('re2'), 2);
    plain.close();
    optedIn.close();
  });

  it('retries UNAVAILABLE from an unreachable server within the deadline, then fails', async () => {
    const client = createGrpcClient(MathClient, '127.0.0.1:1', {
      retry: fastRetry,
      defaultDeadlineMs: 2_000,
    });
    const error = await catchError(client.unary('flaky', { n: 1 }, { idempotent: true }));
    assert.equal(error.code, 'UNAVAILABLE');
    client.close();
  });

  it('an aborted signal cancels the call as CANCELLED', async () => {
    const client = createGrpcClient(MathClient, server.address);
    const error = await catchError(client.unary('flaky', { n: 1 }, { signal: AbortSignal.abort() }));
    assert.equal(error.code, 'CANCELLED');
    client.close();
  });

  it('client-streaming calls take an iterable and resolve once', async () => {
    const client = createGrpcClient(MathClient, server.address);
    async function* numbers() {
      for (let n = 1; n <= 100; n += 1) yield { n };
    }
    assert.deepEqual(await client.clientStream('sum', numbers()), { n: 5050 });
    assert.deepEqual(await client.clientStream('sum', []), { n: 0 });
    client.close();
  });

  it('bidi calls are async iterables in both directions', async () => {
    const client = createGrpcClient(MathClient, server.address);
    const out: number[] = [];
    for await (const r of client.bidi('double', [{ n: 1 }, { n: 2 }, { n: 3 }])) out.push(r.n);
    assert.deepEqual(out, [2, 4, 6]);
    client.close();
  });
});
