// The model engine's ModelError at the service boundary: a real gRPC server on port 0 and the real
// consume loop on a real nats-server. The engine's class is reproduced here by shape (name + code),
// the way this kit recognises it (libs/runtime may not import @verdict/models); test/
// model-error.test.ts checks the same mapping with the engine's own class and errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
import {
  connectMessaging,
  createGrpcClient,
  createGrpcServer,
  disposeInMemoryBroker,
  type GrpcServer,
  isRetryableError,
  isVerdictError,
  type Messaging,
  MODEL_ERROR_CODE_MAP,
  type NatsServerHandle,
  type RuntimeLogger,
  serverStream,
  startNatsServer,
  unary,
  type VerdictError,
} from '../src/index.js';

/** Same shape as @verdict/models' ModelError. */
class ModelError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ModelError';
    this.code = code;
  }
}

interface Note {
  text: string;
}
const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Note => JSON.parse(bytes.toString()) as Note,
};
const method = (name: string, responseStream: boolean) => ({
  path: `/test.v1.Model/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const ModelService = {
  load: method('Load', false),
  generate: method('Generate', true),
} satisfies ServiceDefinition;
type UnaryCb = (error: ServiceError | null, response: Note) => void;
interface ModelClient extends Client {
  load(request: Note, metadata: Metadata, options: Partial<CallOptions>, callback: UnaryCb): ClientUnaryCall;
  generate(request: Note, metadata?: Metadata, options?: Partial<CallOptions>): ClientReadableStream<Note>;
}
const ModelClient = makeGenericClientConstructor(ModelService, 'Model') as unknown as new (
  ...args: ConstructorParameters<typeof Client>
) => ModelClient;

const loggedErrors: unknown[] = [];
const logger: RuntimeLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (_m, fields) => loggedErrors.push(fields),
};

async function catchError(promise: Promise<unknown>): Promise<VerdictError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isVerdictError(error), `expected VerdictError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('ModelError → VerdictError over gRPC', () => {
  let server: GrpcServer;
  let client: ReturnType<typeof createGrpcClient<ModelClient>>;
  before(async () => {
    server = createGrpcServer({ port: 0, host: '127.0.0.1', logger });
    server.addService(ModelService, {
      // The request text is "CODE|message": the handler throws that engine error.
      load: unary((n: Note) => {
        const [code, message] = n.text.split('|');
        if (code === 'plain') throw Object.assign(new Error(message), { code: 'NOT_FOUND' });
        throw new ModelError(code!, message!);
      }),
      generate: serverStream(async function* (n: Note) {
        yield { text: 'tok' };
        throw new ModelError('INVALID_ARGUMENT', `prompt is ${n.text.length} tokens, context is 4`);
      }),
    } as never);
    await server.start();
    client = createGrpcClient(ModelClient, server.address);
  });
  after(async () => {
    client?.close();
    await server?.stop({ deadlineMs: Date.now() + 1_000 });
  });

  for (const [modelCode, verdictCode] of Object.entries(MODEL_ERROR_CODE_MAP)) {
    it(`${modelCode} arrives as ${verdictCode} with the engine's message`, async () => {
      loggedErrors.length = 0;
      const message = `config.json: ${modelCode.toLowerCase()} at /models/x`;
      const error = await catchError(client.unary('load', { text: `${modelCode}|${message}` }));
      assert.equal(error.code, verdictCode);
      assert.equal(error.message, message);
      assert.deepEqual(error.details, { modelErrorCode: modelCode });
      // A mapped engine error is the caller's answer, not a server bug: no error-level log.
      assert.deepEqual(loggedErrors, []);
    });
  }

  it('a server stream that hits a ModelError delivers what it wrote, then the mapped status', async () => {
    const got: string[] = [];
    const error = await catchError(
      (async () => {
        for await (const note of client.serverStream('generate', { text: 'abcdef' })) got.push(note.text);
      })(),
    );
    assert.deepEqual(got, ['tok']);
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(error.message, 'prompt is 6 tokens, context is 4');
  });

  it('lookalikes stay INTERNAL: an unknown engine code, or an engine code on another error type', async () => {
    const unknownCode = await catchError(client.unary('load', { text: 'OUT_OF_MEMORY|secret path' }));
    assert.equal(unknownCode.code, 'INTERNAL');
    assert.equal(unknownCode.message, 'internal error');
    const plain = await catchError(client.unary('load', { text: 'plain|secret path' }));
    assert.equal(plain.code, 'INTERNAL');
    assert.equal(plain.message, 'internal error');
    assert.equal(isRetryableError(Object.assign(new Error('x'), { code: 'INVALID_ARGUMENT' })), true);
  });
});

/**
 * JetStream: a ModelError thrown by a handler settles like the VerdictError it maps to: bad input
 * (INVALID_ARGUMENT) is termed at once, broken model files (FAILED_PRECONDITION) are naked and
 * redelivered until max_deliver. Run on nats-server and on the in-process transport.
 */
async function settleModelErrors(messaging: Messaging, prefix: string): Promise<void> {
  const stream = `${prefix.toUpperCase()}_MODEL_ERRORS`;
  await messaging.ensureStream({ name: stream, subjects: [`${prefix}.>`], duplicateWindowMs: 60_000 });
  await messaging.ensureConsumer({ stream, name: 'worker', ackWaitMs: 1_000, maxDeliver: 3 });
  await messaging.publish(`${prefix}.work`, 'bad-prompt');
  await messaging.publish(`${prefix}.work`, 'broken-checkpoint');
  const deliveries: Record<string, number[]> = { 'bad-prompt': [], 'broken-checkpoint': [] };
  const controller = new AbortController();
  const done = messaging.consume({
    stream,
    consumer: 'worker',
    signal: controller.signal,
    fetchExpiresMs: 1_000,
    retryBaseDelayMs: 50,
    handler: (msg) => {
      deliveries[msg.text()]!.push(msg.deliveryCount);
      if (msg.text() === 'bad-prompt') throw new ModelError('INVALID_ARGUMENT', 'prompt too long');
      throw new ModelError('INVALID_CHECKPOINT', 'model.safetensors: header is not JSON');
    },
  });
  const deadline = Date.now() + 15_000;
  while (deliveries['broken-checkpoint']!.length < 3 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  // Past one more ack wait: a termed message would be back by now if it had not been termed.
  await new Promise((r) => setTimeout(r, 1_500));
  controller.abort();
  const stats = await done;
  assert.deepEqual(deliveries['bad-prompt'], [1], 'INVALID_ARGUMENT is termed on first delivery');
  assert.deepEqual(deliveries['broken-checkpoint'], [1, 2, 3], 'FAILED_PRECONDITION is retried');
  assert.equal(stats.termed, 2);
  assert.equal(stats.naked, 2);
}

describe('ModelError in a JetStream handler', () => {
  let nats: NatsServerHandle;
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats?.stop();
  });

  it('on nats-server: INVALID_ARGUMENT is termed, INVALID_CHECKPOINT retried to max_deliver', async () => {
    const messaging = await connectMessaging({ servers: nats.url, name: 'model-error-test' });
    try {
      await settleModelErrors(messaging, 'nats');
    } finally {
      await messaging.close();
    }
  });

  it('on the in-process transport: the same outcomes', async () => {
    const name = `model-error-${process.pid}`;
    const messaging = await connectMessaging({ servers: `mem://${name}`, name: 'model-error-test' });
    try {
      await settleModelErrors(messaging, 'mem');
    } finally {
      await messaging.close();
      disposeInMemoryBroker(name);
    }
  });
});
