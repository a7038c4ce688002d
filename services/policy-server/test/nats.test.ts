import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createLlamaModel,
  createRng,
  generate,
  type LlamaModel,
  type LlamaWeights,
  loadLlamaModel,
  toWeightMap,
  writeSafetensors,
} from '@verdict/models';
import { rolloutV1, weightsV1 } from '@verdict/proto';
import { connectNats, type Messaging } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import type { PolicyApp } from '../src/app.js';
import { ROLLOUTS_STREAM, rolloutMsgId, SUBJECTS, WEIGHTS_BUCKET, WEIGHTS_STREAM } from '../src/streams.js';
import type { WeightsEvent } from '../src/weights/hot-swap.js';
import { stories260kDir } from './fixture.js';
import { collect, generateRequest, policyClient, startPolicy } from './helpers.js';

/** The fixture weights with seeded noise: a different, still well-formed policy. */
function perturbed(base: LlamaWeights, seed: number, scale: number): LlamaWeights {
  const rng = createRng(seed);
  const out: LlamaWeights = new Map();
  for (const [name, data] of base)
    out.set(
      name,
      data.map((x) => x + (rng.next() - 0.5) * scale),
    );
  return out;
}

function waitForEvent(app: PolicyApp, match: (e: WeightsEvent) => boolean): Promise<WeightsEvent> {
  return new Promise((resolve) => {
    const off = app.onWeightsEvent((e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });
}

describe('policy-server on NATS JetStream (two replicas)', () => {
  let nats: NatsServerHandle;
  let m: Messaging;
  let a: { app: PolicyApp; address: string };
  let b: { app: PolicyApp; address: string };
  let reference: LlamaModel;
  let tmp: string;
  const generated = new Map<string, rolloutV1.RolloutGenerated>();
  const stopConsuming = new AbortController();
  let consuming: Promise<unknown>;

  async function publishWeights(version: bigint, weights: LlamaWeights, corruptSha = false): Promise<void> {
    const file = join(tmp, `v${version}.safetensors`);
    writeSafetensors(file, toWeightMap(reference.config, weights));
    const bytes = readFileSync(file);
    const name = `test-run/v${version}.safetensors`;
    const info = await m.putBlob(WEIGHTS_BUCKET, name, bytes);
    const msg: weightsV1.WeightsPublished = {
      runId: 'test-run',
      version,
      step: version,
      modelId: 'stories260k',
      bucket: WEIGHTS_BUCKET,
      objectName: name,
      sha256: corruptSha ? '0'.repeat(64) : info.sha256,
      sizeBytes: BigInt(info.size),
      format: weightsV1.WeightsFormat.WEIGHTS_FORMAT_SAFETENSORS,
      createdAt: new Date(),
    };
    await m.publish(SUBJECTS.weightsPublished, weightsV1.WeightsPublished.encode(msg).finish(), {
      msgId: `test-run/${version}`,
    });
  }

  function rolloutRequest(
    id: string,
    extra: Partial<rolloutV1.RolloutRequested> = {},
  ): rolloutV1.RolloutRequested {
    return {
      rolloutId: id,
      runId: 'test-run',
      step: 0n,
      groupId: 'g',
      groupIndex: 0,
      groupSize: 1,
      questionId: `q/${id}`,
      question: 'q',
      promptText: 'Once upon a time',
      promptTokenIds: [],
      labeled: false,
      sampling: { temperature: 0, topP: 0, topK: 0, maxNewTokens: 10, stopTokenIds: [], stopStrings: [] },
      policyVersionWanted: 0n,
      requestedAt: new Date(),
      ...extra,
    };
  }

  async function requestRollouts(requests: rolloutV1.RolloutRequested[]): Promise<void> {
    for (const r of requests) {
      await m.publish(SUBJECTS.rolloutRequested, rolloutV1.RolloutRequested.encode(r).finish(), {
        msgId: r.rolloutId,
      });
    }
  }

  async function waitForGenerated(ids: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ids.every((id) => generated.has(id))) {
      if (Date.now() > deadline) {
        throw new Error(
          `published ${a.app.rolloutsPublished}+${b.app.rolloutsPublished}; rollouts not generated: ${ids.filter((id) => !generated.has(id))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'policy-nats-test-'));
    nats = await startNatsServer();
    m = await connectNats({ servers: nats.url });
    await m.ensureStream(ROLLOUTS_STREAM);
    await m.ensureStream(WEIGHTS_STREAM);
    await m.ensureConsumer({
      stream: ROLLOUTS_STREAM.name,
      name: 'test-reader',
      filterSubject: SUBJECTS.rolloutGenerated,
    });
    consuming = m.consume({
      stream: ROLLOUTS_STREAM.name,
      consumer: 'test-reader',
      signal: stopConsuming.signal,
      onError: (error) => console.error('test reader failed', error),
      handler: (msg) => {
        const g = rolloutV1.RolloutGenerated.decode(msg.data);
        const id = g.request!.rolloutId;
        assert.equal(msg.msgId, rolloutMsgId(id, 'generated'), 'published with msgId = rollout id + stage');
        assert.ok(!generated.has(id), `rollout ${id} generated twice`);
        generated.set(id, g);
        return 'ack';
      },
    });
    const env = { NATS_URL: nats.url, POLICY_MAX_BATCH_WAIT: '20ms', POLICY_STALE_RETRY_DELAY: '100ms' };
    a = await startPolicy({ ...env, POLICY_INSTANCE_ID: 'replica-a' });
    b = await startPolicy({ ...env, POLICY_INSTANCE_ID: 'replica-b' });
    reference = loadLlamaModel(stories260kDir());
  });

  after(async () => {
    stopConsuming.abort();
    await consuming;
    await Promise.all([a?.app.stop(), b?.app.stop()]);
    await reference?.close();
    await m?.close();
    await nats?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('generates each requested rollout once across the replicas and publishes it with its id', async () => {
    const prompt = reference.tokenizer.encode('Tom had a red ball');
    const requests = Array.from({ length: 8 }, (_, i) =>
      rolloutRequest(`r${i}`, i % 2 === 0 ? { promptTokenIds: prompt } : {}),
    );
    await requestRollouts(requests);
    await waitForGenerated(
      requests.map((r) => r.rolloutId),
      5000,
    );
    const [fromIds] = await generate(reference, [{ ids: prompt }], { maxNewTokens: 10 });
    const [fromText] = await generate(reference, ['Once upon a time'], { maxNewTokens: 10 });
    for (const [i, r] of requests.entries()) {
      const g = generated.get(r.rolloutId)!;
      const want = i % 2 === 0 ? fromIds! : fromText!;
      assert.deepEqual(
        g.request,
        rolloutV1.RolloutRequested.decode(rolloutV1.RolloutRequested.encode(r).finish()),
        'the request travels unchanged',
      );
      assert.deepEqual(g.completionTokenIds, want.ids);
      assert.deepEqual(g.promptTokenIds, want.promptIds);
      assert.equal(g.logprobs.length, want.ids.length);
      assert.equal(g.completionText, want.text);
      assert.equal(g.policyVersion, 0n);
      assert.ok(['replica-a', 'replica-b'].includes(g.generatorId));
      assert.ok(g.timings?.finishedAt instanceof Date);
    }
    assert.equal(
      a.app.rolloutsPublished + b.app.rolloutsPublished,
      8,
      'each rollout generated by exactly one replica',
    );
  });

  it('hot-swaps on WeightsPublished: an in-flight stream finishes on the old version, the next uses the new one, on both replicas', async () => {
    const client = policyClient(a.address);
    const sampling = { temperature: 1, topK: 0, seed: 5n, maxNewTokens: 200 };
    const stream = client.serverStream(
      'generate',
      generateRequest(['Once upon a time'], sampling, { samplesPerPrompt: 4 }),
    );
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    const weightsV1Map = perturbed(reference.weights, 99, 0.2);
    const loadedA = waitForEvent(a.app, (e) => e.version === 1n);
    const loadedB = waitForEvent(b.app, (e) => e.version === 1n);
    await publishWeights(1n, weightsV1Map);
    assert.equal((await loadedA).kind, 'loaded');
    assert.equal((await loadedB).kind, 'loaded');
    const next = await collect(
      client.serverStream('generate', generateRequest(['Once upon a time'], { maxNewTokens: 24 })),
    );
    const inFlight = await collect({ [Symbol.asyncIterator]: () => it });
    for (const [key, s] of inFlight)
      assert.deepEqual([...s.versions], [0n], `in-flight ${key} stays on version 0`);
    // Its tokens are the old weights' tokens even though the swap happened mid-stream.
    const firstIds = first.value!.tokenIds;
    const [old0] = await generate(reference, ['Once upon a time'], {
      temperature: 1,
      seed: 5,
      maxNewTokens: 200,
    });
    const s0 = inFlight.get('0/0')!;
    const ids0 = first.value!.sampleIndex === 0 ? [...firstIds, ...s0.ids] : s0.ids;
    assert.deepEqual(ids0, old0!.ids);
    assert.deepEqual([...next.get('0/0')!.versions], [1n]);
    const newModel = createLlamaModel(reference.config, weightsV1Map, reference.tokenizer);
    const [want] = await generate(newModel, ['Once upon a time'], { maxNewTokens: 24 });
    await newModel.close();
    assert.deepEqual(next.get('0/0')!.ids, want!.ids, 'the new request runs on the published weights');
    const infoB = await policyClient(b.address).unary('getModelInfo', {});
    assert.equal(infoB.model?.version, 1n);
    assert.equal(a.app.health().loadedVersion, 1n);
    client.close();
  });

  it('rejects weights whose checksum does not match and keeps serving the loaded version', async () => {
    const rejectedA = waitForEvent(a.app, (e) => e.version === 2n);
    const rejectedB = waitForEvent(b.app, (e) => e.version === 2n);
    await publishWeights(2n, perturbed(reference.weights, 7, 0.2), true);
    const ea = await rejectedA;
    assert.equal(ea.kind, 'rejected');
    assert.match((ea as { reason: string }).reason, /verification|sha256|checksum/i);
    assert.equal((await rejectedB).kind, 'rejected');
    assert.equal(a.app.health().loadedVersion, 1n);
    assert.equal(b.app.health().loadedVersion, 1n);
    assert.equal(a.app.health().ready, true);
  });

  it('holds a rollout that wants newer weights until they are loaded', async () => {
    await requestRollouts([rolloutRequest('stale', { policyVersionWanted: 3n })]);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!generated.has('stale'), 'not generated on version 1');
    await publishWeights(3n, perturbed(reference.weights, 3, 0.2));
    await waitForGenerated(['stale']);
    assert.equal(generated.get('stale')!.policyVersion, 3n);
  });
});
