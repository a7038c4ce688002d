import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate, type LlamaModel, loadLlamaModel } from '@verdict/models';
import { commonV1, health } from '@verdict/proto';
import { createGrpcClient, isVerdictError } from '@verdict/runtime';
import { POLICY_SERVICE_NAME, type PolicyApp } from '../src/app.js';
import { stories260kDir } from './fixture.js';
import { collect, generateRequest, policyClient, startPolicy } from './helpers.js';

const PROMPTS = ['Once upon a time', 'Lily and Ben went to the park', 'The sun'];

async function expectError(
  p: Promise<unknown>,
  code: string,
  field: string,
  mentions: string,
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVerdictError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.field, field, e.message);
    assert.ok(e.message.includes(mentions), `${e.message} should mention ${mentions}`);
    return true;
  });
}

describe('policy-server gRPC (stories260k)', () => {
  let app: PolicyApp;
  let address: string;
  let reference: LlamaModel;
  let client: ReturnType<typeof policyClient>;

  before(async () => {
    // A wait long enough that concurrent calls land in one batch whatever the scheduling.
    ({ app, address } = await startPolicy({ POLICY_MAX_BATCH_WAIT: '150ms', POLICY_MAX_BATCH_SIZE: '8' }));
    client = policyClient(address);
    reference = loadLlamaModel(stories260kDir());
  });
  after(async () => {
    client.close();
    await reference.close();
    await app.stop();
  });

  it('is SERVING with the loaded version and reports it in GetModelInfo', async () => {
    const h = createGrpcClient(health.HealthClient, address);
    const res = await h.unary('check', { service: POLICY_SERVICE_NAME });
    assert.equal(res.status, health.HealthCheckResponse_ServingStatus.SERVING);
    h.close();
    const info = await client.unary('getModelInfo', {});
    assert.equal(info.ready, true);
    assert.deepEqual(info.model, { modelId: 'stories260k', version: 0n });
    assert.equal(info.vocabSize, 512);
    assert.equal(info.maxContextTokens, 512);
    assert.equal(info.maxBatchSize, 8);
    assert.ok(info.eosTokenIds.includes(2));
    assert.equal(app.health().loadedVersion, 0n);
  });

  it('streams greedy completions equal to direct generate(), with logprobs and the version on every chunk', async () => {
    const seqs = await collect(
      client.serverStream('generate', generateRequest(PROMPTS, { maxNewTokens: 24 })),
    );
    const want = await generate(reference, PROMPTS, { maxNewTokens: 24, temperature: 0 });
    assert.equal(seqs.size, PROMPTS.length);
    PROMPTS.forEach((_, p) => {
      const s = seqs.get(`${p}/0`)!;
      const w = want[p]!;
      assert.deepEqual(s.ids, w.ids);
      assert.equal(s.text, w.text, 'text deltas add up to the completion');
      assert.deepEqual(s.promptIds, w.promptIds, 'prompt ids arrive once, on the first chunk');
      assert.equal(s.logprobs.length, w.ids.length);
      s.logprobs.forEach((lp, i) => {
        assert.ok(Math.abs(lp - w.logprobs[i]!) < 1e-4, `logprob ${i}`);
      });
      assert.ok(s.logprobs.every((lp) => lp <= 0 && Number.isFinite(lp)));
      assert.deepEqual([...s.versions], [0n]);
      assert.equal(s.chunks, w.ids.length + 1, 'one chunk per token plus the final one');
      assert.equal(
        s.finishReason,
        w.finishReason === 'stop_token'
          ? commonV1.FinishReason.FINISH_REASON_STOP_TOKEN
          : commonV1.FinishReason.FINISH_REASON_LENGTH,
      );
    });
  });

  it('draws sample i with seed + i, reproducibly', async () => {
    const req = generateRequest(
      ['Once upon a time'],
      { temperature: 1, topK: 50, seed: 41n, maxNewTokens: 12 },
      { samplesPerPrompt: 3 },
    );
    const a = await collect(client.serverStream('generate', req));
    for (let i = 0; i < 3; i++) {
      const [w] = await generate(reference, ['Once upon a time'], {
        temperature: 1,
        topK: 50,
        seed: 41 + i,
        maxNewTokens: 12,
      });
      assert.deepEqual(a.get(`0/${i}`)!.ids, w!.ids, `sample ${i}`);
    }
    assert.notDeepEqual(a.get('0/0')!.ids, a.get('0/1')!.ids);
  });

  it('coalesces concurrent requests into shared batches', async () => {
    const before = { ...app.generatorStats };
    const calls = PROMPTS.map((p, i) =>
      collect(client.serverStream('generate', generateRequest([p], { maxNewTokens: 8 + i }))),
    );
    const results = await Promise.all(calls);
    const batches = app.generatorStats.batches - before.batches;
    const rows = app.generatorStats.batchedRows - before.batchedRows;
    assert.equal(rows, 3);
    assert.ok(batches < 3, `3 concurrent requests ran in ${batches} batches`);
    // Batching never changes a greedy result.
    const want = await generate(reference, PROMPTS, { maxNewTokens: 10, temperature: 0 });
    results.forEach((r, i) => {
      assert.deepEqual(r.get('0/0')!.ids, want[i]!.ids.slice(0, 8 + i));
    });
  });

  it('rejects bad sampling params with INVALID_ARGUMENT naming the field and the limit', async () => {
    const run = (req: ReturnType<typeof generateRequest>) => collect(client.serverStream('generate', req));
    await expectError(
      run(generateRequest(['x'], { temperature: -1 })),
      'INVALID_ARGUMENT',
      'sampling.temperature',
      '>= 0',
    );
    await expectError(
      run(generateRequest(['x'], { topP: 1.5 })),
      'INVALID_ARGUMENT',
      'sampling.top_p',
      '[0, 1]',
    );
    await expectError(
      run(generateRequest(['x'], { topK: 100_000 })),
      'INVALID_ARGUMENT',
      'sampling.top_k',
      '512',
    );
    await expectError(
      run(generateRequest(['x'], { maxNewTokens: 1_000_000 })),
      'INVALID_ARGUMENT',
      'sampling.max_new_tokens',
      '2048',
    );
    await expectError(
      run(generateRequest(['x'], { stopTokenIds: [9999] })),
      'INVALID_ARGUMENT',
      'sampling.stop_token_ids[0]',
      '512',
    );
    await expectError(run(generateRequest([])), 'INVALID_ARGUMENT', 'prompts', 'at least one');
    await expectError(
      run({ ...generateRequest([]), prompts: [{ tokenIds: { ids: [1, 600] }, applyChatTemplate: false }] }),
      'INVALID_ARGUMENT',
      'prompts[0].token_ids',
      '[0, 512)',
    );
    await expectError(
      run(generateRequest(['word '.repeat(600)])),
      'INVALID_ARGUMENT',
      'prompts[0].text',
      'max_position_embeddings (512)',
    );
    await expectError(
      run(generateRequest(['x'], {}, { samplesPerPrompt: 1000 })),
      'INVALID_ARGUMENT',
      'samples_per_prompt',
      '256',
    );
  });

  it('refuses with FAILED_PRECONDITION when min_policy_version is newer than the loaded weights', async () => {
    await expectError(
      collect(client.serverStream('generate', generateRequest(['x'], {}, { minPolicyVersion: 3n }))),
      'FAILED_PRECONDITION',
      'min_policy_version',
      'version 0',
    );
  });
});
