// Issue 17's judge-server findings through the real gRPC server (port 0): item sizes are checked
// before tokenizing, no status echoes client text of any length, and a malformed message in the
// middle of a JudgeStream still lets every accepted item's result out before the call ends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ClientDuplexStream, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { health, judgeV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError, type VerdictError } from '@verdict/runtime';
import { type GatedModel, gateModel, loadModel, startJudgeApp, waitFor } from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

const S = judgeV1.JudgeStatus;
const MB = 'x'.repeat(1 << 20);

const item = (id: string, o: Partial<judgeV1.JudgeItem> = {}): judgeV1.JudgeItem => ({
  id,
  question: `What is ${id} plus 2?`,
  solution: `It is ${id} and 2.`,
  templateName: '',
  ...o,
});

async function rejection(promise: Promise<unknown>): Promise<VerdictError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isVerdictError(error), `expected a VerdictError, got ${String(error)}`);
    assert.ok(error.message.length <= 2048, `status message is ${error.message.length} chars`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** A JudgeStream client that sends raw bytes, so a test can put garbage on the wire. */
const RawJudge = makeGenericClientConstructor(
  {
    judgeStream: {
      path: judgeV1.JudgeServiceService.judgeStream.path,
      requestStream: true,
      responseStream: true,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (r: judgeV1.JudgeStreamResponse) =>
        Buffer.from(judgeV1.JudgeStreamResponse.encode(r).finish()),
      responseDeserialize: (b: Buffer) => judgeV1.JudgeStreamResponse.decode(b),
    },
  },
  'RawJudge',
);

describe('judge-server input limits', () => {
  const fixture = writeToyJudgeModel({ maxPositions: 96 });
  const model = loadModel(fixture.dir);
  let gated: GatedModel;
  let app: ReturnType<typeof startJudgeApp>;
  let judgeClient: ReturnType<typeof createGrpcClient<judgeV1.JudgeServiceClient>>;
  let healthClient: ReturnType<typeof createGrpcClient<health.HealthClient>>;
  let address: string;

  before(async () => {
    gated = gateModel(model);
    app = startJudgeApp(
      fixture.dir,
      { JUDGE_MODEL_ID: 'toy-judge', JUDGE_MAX_BATCH_WAIT: '5' },
      { model: gated },
    );
    ({ address } = await app.start());
    judgeClient = createGrpcClient(judgeV1.JudgeServiceClient, address, { defaultDeadlineMs: 20_000 });
    healthClient = createGrpcClient(health.HealthClient, address, { defaultDeadlineMs: 20_000 });
  });

  after(async () => {
    judgeClient?.close();
    healthClient?.close();
    await app?.stop();
    await model.close();
    fixture.cleanup();
  });

  it('JudgeBatch refuses oversized ids, template names and texts naming the field and limit', async () => {
    const cases: Array<[judgeV1.JudgeItem, string, RegExp]> = [
      [item(MB), 'items[0].id', /must be at most 256 characters \(got 1048576\)/],
      [item('t', { templateName: MB }), 'items[0].template_name', /must be at most 128 characters/],
      [item('q', { question: MB }), 'items[0].question', /must be at most 65536 characters/],
      [item('s', { solution: MB }), 'items[0].solution', /must be at most 65536 characters/],
    ];
    for (const [bad, field, message] of cases) {
      const error = await rejection(judgeClient.unary('judgeBatch', { items: [bad] }));
      assert.equal(error.code, 'INVALID_ARGUMENT');
      assert.equal(error.field, field);
      assert.match(error.message, message);
    }
  });

  it('duplicate ids and unknown template names are quoted truncated', async () => {
    const id = 'd'.repeat(256);
    const dup = await rejection(judgeClient.unary('judgeBatch', { items: [item(id), item(id)] }));
    assert.equal(dup.field, 'items[1].id');
    assert.match(dup.message, /duplicate item id "d{63}… \(258 bytes\)$/);
    const tpl = await rejection(
      judgeClient.unary('judgeBatch', { items: [item('a', { templateName: 't'.repeat(128) })] }),
    );
    assert.match(tpl.message, /unknown judge template "t{63}… \(130 bytes\) \(known:/);
  });

  it('a health Check for a 1 MB service name is NOT_FOUND with a short message', async () => {
    const error = await rejection(healthClient.unary('check', { service: MB }));
    assert.equal(error.code, 'NOT_FOUND');
    assert.match(error.message, /unknown service x+… \(1048576 bytes\)$/);
  });

  it('JudgeStream gives an oversized id an INVALID result with a bounded id', async () => {
    const got: judgeV1.JudgeResult[] = [];
    for await (const r of judgeClient.bidi('judgeStream', [{ item: item(MB) }, { item: item('ok') }])) {
      if (r.result) got.push(r.result);
    }
    const bad = got.find((r) => r.id !== 'ok');
    assert.equal(bad?.status, S.JUDGE_STATUS_INVALID);
    assert.ok((bad?.id.length ?? Infinity) < 128);
    assert.match(bad?.message ?? '', /item#0\.id: must be at most 256 characters/);
    assert.equal(got.find((r) => r.id === 'ok')?.status, S.JUDGE_STATUS_OK);
  });

  it('garbage mid-JudgeStream ends the call with INVALID_ARGUMENT after the accepted items’ results', async () => {
    gated.hold();
    const raw = new RawJudge(address, credentials.createInsecure());
    const call = (
      raw as unknown as { judgeStream(): ClientDuplexStream<Buffer, judgeV1.JudgeStreamResponse> }
    ).judgeStream();
    const results: judgeV1.JudgeResult[] = [];
    const ended = new Promise<{ code: number; details: string }>((resolve) => {
      call.on('data', (r: judgeV1.JudgeStreamResponse) => r.result && results.push(r.result));
      call.on('error', (e: { code: number; details: string }) => resolve(e));
      call.on('end', () => resolve({ code: 0, details: '' }));
    });
    for (const id of ['g1', 'g2'])
      call.write(Buffer.from(judgeV1.JudgeStreamRequest.encode({ item: item(id) }).finish()));
    await waitFor(() => gated.waiting >= 1);
    // Field 1, length-delimited, with a length far past the end: the decoder throws.
    call.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    // The accepted items are still at the model when the garbage arrives.
    await new Promise((resolve) => setTimeout(resolve, 100));
    gated.release();
    const status = await ended;
    raw.close();
    assert.deepEqual(results.map((r) => [r.id, r.status]).sort(), [
      ['g1', S.JUDGE_STATUS_OK],
      ['g2', S.JUDGE_STATUS_OK],
    ]);
    assert.equal(status.code, 3, `status ${status.code}: ${status.details}`); // INVALID_ARGUMENT
    assert.match(status.details, /item#2: not a JudgeStreamRequest/);
  });
});
