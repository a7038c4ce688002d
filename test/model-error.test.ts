// The model engine's own errors through the runtime's gRPC boundary: @verdict/runtime recognises
// ModelError by shape (it may not import @verdict/models), so this test, which sees both packages,
// pins that the engine's class and codes still match what the runtime maps. Real gRPC on port 0.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type Metadata,
  makeGenericClientConstructor,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadLlamaFamilyConfig, ModelError, type ModelErrorCode, readSafetensors } from '@verdict/models';
import {
  createGrpcClient,
  createGrpcServer,
  type GrpcServer,
  isVerdictError,
  MODEL_ERROR_CODE_MAP,
  type ModelEngineErrorCode,
  silentLogger,
  unary,
  type VerdictError,
} from '@verdict/runtime';

// Compile-time: the runtime's map covers exactly the engine's codes (tsc -b fails on drift).
const engineCodesCovered: Record<ModelErrorCode, unknown> = MODEL_ERROR_CODE_MAP;
const noExtraCodes: Record<ModelEngineErrorCode, unknown> = {} as Record<ModelErrorCode, unknown>;
void engineCodesCovered;
void noExtraCodes;

interface Path {
  text: string;
}
const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Path => JSON.parse(bytes.toString()) as Path,
};
const LoadService = {
  config: {
    path: '/test.v1.Load/Config',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  weights: {
    path: '/test.v1.Load/Weights',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  throws: {
    path: '/test.v1.Load/Throws',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} satisfies ServiceDefinition;
type Cb = (error: ServiceError | null, response: Path) => void;
type Method = (
  request: Path,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: Cb,
) => ClientUnaryCall;
interface LoadClient extends Client {
  config: Method;
  weights: Method;
  throws: Method;
}
const LoadClient = makeGenericClientConstructor(LoadService, 'Load') as unknown as new (
  ...args: ConstructorParameters<typeof Client>
) => LoadClient;

async function statusOf(promise: Promise<unknown>): Promise<VerdictError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isVerdictError(error));
    return error;
  }
  assert.fail('expected a rejection');
}

describe("the model engine's errors at a gRPC boundary", () => {
  let dir: string;
  let server: GrpcServer;
  let client: ReturnType<typeof createGrpcClient<LoadClient>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'verdict-model-error-'));
    server = createGrpcServer({ port: 0, host: '127.0.0.1', logger: silentLogger });
    server.addService(LoadService, {
      config: unary((r: Path) => {
        loadLlamaFamilyConfig(r.text);
        return { text: 'ok' };
      }),
      weights: unary((r: Path) => {
        readSafetensors(r.text);
        return { text: 'ok' };
      }),
      throws: unary((r: Path) => {
        throw new ModelError(r.text as ModelErrorCode, `engine said ${r.text}`);
      }),
    } as never);
    await server.start();
    client = createGrpcClient(LoadClient, server.address);
  });
  after(async () => {
    client?.close();
    await server?.stop({ deadlineMs: Date.now() + 1_000 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a missing model folder is NOT_FOUND, naming the path', async () => {
    const missing = join(dir, 'no-such-model');
    const error = await statusOf(client.unary('config', { text: missing }));
    assert.equal(error.code, 'NOT_FOUND');
    assert.match(error.message, /no-such-model/);
  });

  it('a config.json that is not JSON is FAILED_PRECONDITION with the parse problem', async () => {
    const modelDir = mkdtempSync(join(dir, 'broken-config-'));
    writeFileSync(join(modelDir, 'config.json'), '{ not json');
    const error = await statusOf(client.unary('config', { text: modelDir }));
    assert.equal(error.code, 'FAILED_PRECONDITION');
    assert.match(error.message, /config\.json/);
    assert.deepEqual(error.details, { modelErrorCode: 'INVALID_CONFIG' });
  });

  it('a truncated safetensors file is FAILED_PRECONDITION (INVALID_CHECKPOINT)', async () => {
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    const error = await statusOf(client.unary('weights', { text: file }));
    assert.equal(error.code, 'FAILED_PRECONDITION');
    assert.match(error.message, /too short for a safetensors header/);
    assert.deepEqual(error.details, { modelErrorCode: 'INVALID_CHECKPOINT' });
  });

  it('every engine code arrives as its mapped code with the message, never INTERNAL', async () => {
    for (const [code, mapped] of Object.entries(MODEL_ERROR_CODE_MAP)) {
      const error = await statusOf(client.unary('throws', { text: code }));
      assert.equal(error.code, mapped, code);
      assert.equal(error.message, `engine said ${code}`);
    }
  });
});
