import assert from 'node:assert/strict';
import { it } from 'node:test';
import type {
  CallOptions,
  Client,
  ClientDuplexStream,
  ClientReadableStream,
  ClientUnaryCall,
  ClientWritableStream,
  Metadata,
  ServiceError,
} from '@grpc/grpc-js';
import { health } from '@verdict/proto';
import type {
  BidiMethod,
  ClientStreamMethod,
  ServerStreamMethod,
  StreamRequest,
  StreamResponse,
  UnaryMethod,
  UnaryRequest,
  UnaryResponse,
} from '../src/index.js';

// Compile-time checks (tsc -b) that the client helpers infer methods and types from ts-proto clients.
type HealthClient = health.HealthClient;
const unaryName: UnaryMethod<HealthClient> = 'check';
const streamName: ServerStreamMethod<HealthClient> = 'watch';
const request: UnaryRequest<HealthClient['check']> = { service: '' };
const response: UnaryResponse<HealthClient['check']> = {
  status: health.HealthCheckResponse_ServingStatus.SERVING,
};

// A client with one method of each kind: each helper must pick exactly its own.
interface All extends Client {
  u(r: string, cb: (e: ServiceError | null, v: number) => void): ClientUnaryCall;
  u(
    r: string,
    m: Metadata,
    o: Partial<CallOptions>,
    cb: (e: ServiceError | null, v: number) => void,
  ): ClientUnaryCall;
  s(r: string, o?: Partial<CallOptions>): ClientReadableStream<number>;
  s(r: string, m?: Metadata, o?: Partial<CallOptions>): ClientReadableStream<number>;
  c(cb: (e: ServiceError | null, v: number) => void): ClientWritableStream<string>;
  c(
    m: Metadata,
    o: Partial<CallOptions>,
    cb: (e: ServiceError | null, v: number) => void,
  ): ClientWritableStream<string>;
  b(o?: Partial<CallOptions>): ClientDuplexStream<string, number>;
  b(m?: Metadata, o?: Partial<CallOptions>): ClientDuplexStream<string, number>;
}
type Eq<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const kinds: [
  Eq<UnaryMethod<All>, 'u'>,
  Eq<ServerStreamMethod<All>, 's'>,
  Eq<ClientStreamMethod<All>, 'c'>,
  Eq<BidiMethod<All>, 'b'>,
] = [true, true, true, true];
const streamTypes: [
  Eq<StreamRequest<All['b']>, string>,
  Eq<StreamResponse<All['b']>, number>,
  Eq<StreamRequest<All['c']>, string>,
  Eq<StreamResponse<All['c']>, number>,
  Eq<StreamRequest<All['s']>, string>,
  Eq<StreamResponse<All['s']>, number>,
] = [true, true, true, true, true, true];

it('infers unary and stream method names from a generated client', () => {
  assert.deepEqual([unaryName, streamName, request.service, response.status], ['check', 'watch', '', 1]);
  assert.equal([...kinds, ...streamTypes].every(Boolean), true);
});
