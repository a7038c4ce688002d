// Issue 17's Generate findings through the real gRPC server (port 0, stories260k): request_id is
// bounded (it is echoed in every chunk), and prompt sizes are checked before tokenizing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVerdictError } from '@verdict/runtime';
import type { PolicyApp } from '../src/app.js';
import { collect, generateRequest, policyClient, startPolicy } from './helpers.js';

async function rejects(p: Promise<unknown>, field: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVerdictError(e), String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, message);
    assert.ok(e.message.length <= 2048, `status message is ${e.message.length} chars`);
    return true;
  });
}

describe('policy-server Generate input limits', () => {
  let app: PolicyApp;
  let client: ReturnType<typeof policyClient>;

  before(async () => {
    let address: string;
    ({ app, address } = await startPolicy({}));
    client = policyClient(address);
  });
  after(async () => {
    client.close();
    await app.stop();
  });

  it('a 1 MB request_id is INVALID_ARGUMENT naming the field and limit, before any token', async () => {
    const req = generateRequest(['Once upon a time'], {}, { requestId: 'r'.repeat(1 << 20) });
    await rejects(
      collect(client.serverStream('generate', req)),
      'request_id',
      /at most 128 characters \(got 1048576\)/,
    );
  });

  it('a 128-character request_id is echoed in every chunk', async () => {
    const requestId = 'q'.repeat(128);
    const ids = new Set<string>();
    const out = await collect(
      client.serverStream(
        'generate',
        generateRequest(['Once upon a time'], { maxNewTokens: 4 }, { requestId }),
      ),
      (c) => ids.add(c.requestId),
    );
    assert.equal(out.size, 1);
    assert.deepEqual([...ids], [requestId]);
  });

  it('prompt text and token_ids longer than their limits are refused before tokenizing', async () => {
    await rejects(
      collect(client.serverStream('generate', generateRequest(['a'.repeat(1 << 20)]))),
      'prompts[0].text',
      /at most 262144 characters \(got 1048576\)/,
    );
    const ids = generateRequest([]);
    ids.prompts = [{ tokenIds: { ids: Array.from({ length: 100_000 }, () => 5) }, applyChatTemplate: false }];
    await rejects(
      collect(client.serverStream('generate', ids)),
      'prompts[0].token_ids',
      /100000 tokens, more than the model's max_position_embeddings \(512\)/,
    );
  });
});
