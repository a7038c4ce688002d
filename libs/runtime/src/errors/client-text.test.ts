import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIELD_TRAILER } from './grpc-status.js';
import {
  CLIENT_TEXT_MAX_CHARS,
  clientText,
  DETAILS_TRAILER,
  DETAILS_TRAILER_MAX_BYTES,
  STATUS_TEXT_MAX_CHARS,
  toGrpcStatus,
  VerdictError,
} from './index.js';

test('clientText keeps short text and cuts long text to a prefix plus its size', () => {
  assert.equal(clientText('run-1'), 'run-1');
  const long = 'x'.repeat(1_000_000);
  const quoted = clientText(long);
  assert.equal(quoted, `${'x'.repeat(CLIENT_TEXT_MAX_CHARS)}… (1000000 bytes)`);
  // The size is in UTF-8 bytes, what the client sent.
  assert.match(clientText('é'.repeat(100)), /\(200 bytes\)$/);
});

test('clientText never splits a surrogate pair at the cut', () => {
  const text = `${'a'.repeat(CLIENT_TEXT_MAX_CHARS - 1)}😀${'b'.repeat(10)}`;
  const quoted = clientText(text);
  assert.ok(!quoted.includes('\ud83d'), 'no lone high surrogate');
  assert.ok(quoted.startsWith('a'.repeat(CLIENT_TEXT_MAX_CHARS - 1)));
});

test('toGrpcStatus bounds message, field and details whatever the handler wrote', () => {
  const huge = 'y'.repeat(2_000_000);
  const { status } = toGrpcStatus(
    new VerdictError('INVALID_ARGUMENT', `bad id ${huge}`, { field: huge, details: { id: huge } }),
  );
  assert.equal(status.code, 3);
  assert.ok(status.details.length <= STATUS_TEXT_MAX_CHARS + 40, `message is ${status.details.length} chars`);
  assert.match(status.details, /^bad id y+… \(2000007 bytes\)$/);
  const field = status.metadata.get(FIELD_TRAILER)[0];
  assert.ok(typeof field === 'string' && field.length <= STATUS_TEXT_MAX_CHARS + 40);
  const details = status.metadata.get(DETAILS_TRAILER)[0];
  assert.ok(Buffer.isBuffer(details) && details.length <= DETAILS_TRAILER_MAX_BYTES);
  assert.deepEqual(JSON.parse(details.toString('utf8')), { truncated: true, bytes: 2_000_009 });
});

test('toGrpcStatus sends small statuses unchanged', () => {
  const { status } = toGrpcStatus(
    new VerdictError('INVALID_ARGUMENT', 'maxNewTokens must be ≤ 512', {
      field: 'maxNewTokens',
      details: { limit: 512 },
    }),
  );
  assert.equal(status.details, 'maxNewTokens must be ≤ 512');
  assert.equal(status.metadata.get(FIELD_TRAILER)[0], 'maxNewTokens');
  assert.deepEqual(JSON.parse(String(status.metadata.get(DETAILS_TRAILER)[0])), { limit: 512 });
});
