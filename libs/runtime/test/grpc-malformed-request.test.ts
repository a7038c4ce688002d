// Request bytes that do not decode are answered INVALID_ARGUMENT by every handler kind (grpc-js
// alone answers INTERNAL before the handler runs), found by the protocol fuzzer (issue 17).
// A real server on port 0; the client sends raw bytes through identity serialisers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Client,
  credentials,
  Metadata,
  type ServiceDefinition,
  type StatusObject,
  status,
} from '@grpc/grpc-js';
import { bidi, createGrpcServer, type GrpcServer, serverStream, silentLogger, unary } from '../src/index.js';

interface Note {
  text: string;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Note => JSON.parse(bytes.toString()) as Note,
};
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.v1.Notes/${name}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const NotesService = {
  echo: method('Echo', false, false),
  list: method('List', false, true),
  chat: method('Chat', true, true),
} satisfies ServiceDefinition;

const identity = (b: Buffer): Buffer => b;
const GARBAGE = Buffer.from('{not json');
// A health request whose only field claims a ~2 GiB length.
const BAD_PROTOBUF = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x41]);

let server: GrpcServer;
let client: Client;

before(async () => {
  server = createGrpcServer({ name: 'malformed', host: '127.0.0.1', port: 0, logger: silentLogger });
  server.addService(NotesService, {
    echo: unary<Note, Note>((n) => ({ text: n.text })),
    list: serverStream<Note, Note>(function* (n) {
      yield { text: n.text };
    }),
    chat: bidi<Note, Note>(async function* (notes) {
      for await (const n of notes) yield { text: n.text };
    }),
  });
  await server.start();
  client = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client?.close();
  await server?.stop();
});

interface Ended {
  readonly status: StatusObject;
  readonly replies: string[];
}

function unaryRaw(path: string, bytes: Buffer): Promise<Ended> {
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(
      path,
      identity,
      identity,
      bytes,
      new Metadata(),
      {},
      () => undefined,
    );
    call.on('status', (s: StatusObject) => resolve({ status: s, replies: [] }));
  });
}

function streamRaw(path: string, messages: Buffer[], bidiCall: boolean): Promise<Ended> {
  return new Promise((resolve) => {
    const replies: string[] = [];
    const call = bidiCall
      ? client.makeBidiStreamRequest(path, identity, identity)
      : client.makeServerStreamRequest(path, identity, identity, messages[0]!);
    if (bidiCall) {
      const duplex = call as ReturnType<Client['makeBidiStreamRequest']>;
      for (const m of messages) duplex.write(m);
      duplex.end();
    }
    call.on('data', (b: Buffer) => replies.push(b.toString()));
    call.on('error', () => undefined);
    call.on('status', (s: StatusObject) => resolve({ status: s, replies }));
  });
}

function assertRefused(e: Ended, path: string): void {
  assert.equal(e.status.code, status.INVALID_ARGUMENT, e.status.details);
  assert.match(
    e.status.details,
    new RegExp(`request to ${path.replaceAll('.', '\\.')} is not a valid protobuf`),
  );
  assert.deepEqual(e.status.metadata.get('verdict-field'), ['request']);
}

test('a unary request that does not decode is INVALID_ARGUMENT naming the method, not INTERNAL', async () => {
  assertRefused(await unaryRaw('/test.v1.Notes/Echo', GARBAGE), '/test.v1.Notes/Echo');
  const good = await unaryRaw('/test.v1.Notes/Echo', Buffer.from('{"text":"hi"}'));
  assert.equal(good.status.code, status.OK);
});

test('the health service refuses a malformed protobuf request with INVALID_ARGUMENT', async () => {
  assertRefused(await unaryRaw('/grpc.health.v1.Health/Check', BAD_PROTOBUF), '/grpc.health.v1.Health/Check');
});

test('a server-streaming request that does not decode is INVALID_ARGUMENT', async () => {
  const e = await streamRaw('/test.v1.Notes/List', [GARBAGE], false);
  assertRefused(e, '/test.v1.Notes/List');
  assert.deepEqual(e.replies, []);
});

test('garbage mid-stream ends a bidi call with INVALID_ARGUMENT after the good messages are answered', async () => {
  const e = await streamRaw('/test.v1.Notes/Chat', [Buffer.from('{"text":"a"}'), GARBAGE], true);
  assertRefused(e, '/test.v1.Notes/Chat');
  assert.deepEqual(e.replies, ['{"text":"a"}']);
});
