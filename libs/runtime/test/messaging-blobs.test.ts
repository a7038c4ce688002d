import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { after, before, it } from 'node:test';
import { BlobIntegrityError, connectNats, type Messaging, sha256Hex } from '../src/messaging/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

const BLOB_BYTES = 50 * 1024 * 1024;
const BUCKET = 'weights';

let server: NatsServerHandle;
let messaging: Messaging;

before(async () => {
  server = await startNatsServer();
  messaging = await connectNats({ servers: server.url, name: 'blob-test', jetstreamTimeoutMs: 30_000 });
});

after(async () => {
  await messaging?.close();
  await server?.stop();
});

function rate(bytes: number, ms: number): string {
  return `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(1)} MB/s`;
}

it('round-trips a 50 MB blob and rejects corrupted and truncated replacements', async () => {
  const original = new Uint8Array(BLOB_BYTES);
  // randomFillSync caps each call at 2^31-1 bytes; 50 MB is fine in one go.
  randomFillSync(original);

  let t0 = performance.now();
  const announced = await messaging.putBlob(BUCKET, 'policy-v1.safetensors', original);
  const putMs = performance.now() - t0;
  assert.equal(announced.size, BLOB_BYTES);
  assert.equal(announced.sha256, sha256Hex(original));

  t0 = performance.now();
  const read = await messaging.getBlob(BUCKET, 'policy-v1.safetensors', {
    expectedSha256: announced.sha256,
    expectedSize: announced.size,
  });
  const getMs = performance.now() - t0;
  assert.equal(read.length, BLOB_BYTES);
  assert.ok(Buffer.from(read.buffer, read.byteOffset, read.byteLength).equals(original), 'bytes identical');
  console.log(`object store 50 MB: put ${rate(BLOB_BYTES, putMs)}, get+verify ${rate(BLOB_BYTES, getMs)}`);

  // Without explicit expectations the sha256 stored in the object's metadata is checked.
  const readByMetadata = await messaging.getBlob(BUCKET, 'policy-v1.safetensors');
  assert.equal(sha256Hex(readByMetadata), announced.sha256);

  // The object is replaced behind the reader's back: a reader holding the announced size and
  // checksum (e.g. from a weights-published message) must refuse the bytes.
  const corrupted = original.slice();
  corrupted[12_345_678] = (corrupted[12_345_678]! + 1) % 256;
  await messaging.putBlob(BUCKET, 'policy-v1.safetensors', corrupted);
  await assert.rejects(
    messaging.getBlob(BUCKET, 'policy-v1.safetensors', {
      expectedSha256: announced.sha256,
      expectedSize: announced.size,
    }),
    (err: unknown) => {
      assert.ok(err instanceof BlobIntegrityError);
      assert.equal(err.reason, 'checksum-mismatch');
      assert.equal(err.code, 'INTERNAL');
      assert.match(
        err.message,
        /weights\/policy-v1\.safetensors failed its checksum: sha256 [0-9a-f]{64}, expected/,
      );
      return true;
    },
  );

  const truncated = original.subarray(0, 30 * 1024 * 1024);
  await messaging.putBlob(BUCKET, 'policy-v1.safetensors', truncated);
  await assert.rejects(
    messaging.getBlob(BUCKET, 'policy-v1.safetensors', {
      expectedSha256: announced.sha256,
      expectedSize: announced.size,
    }),
    (err: unknown) => {
      assert.ok(err instanceof BlobIntegrityError);
      assert.equal(err.reason, 'size-mismatch');
      assert.match(err.message, /truncated or padded: read 31457280 bytes, expected 52428800/);
      return true;
    },
  );
});

it('reports a missing blob by name', async () => {
  await assert.rejects(messaging.getBlob(BUCKET, 'policy-v404'), (err: unknown) => {
    assert.ok(err instanceof BlobIntegrityError);
    assert.equal(err.reason, 'not-found');
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(err.message, /blob weights\/policy-v404 not found/);
    return true;
  });
});
