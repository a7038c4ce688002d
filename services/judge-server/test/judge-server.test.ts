import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { judge } from '@verdict/models';
import { health, judgeV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError, type VerdictError } from '@verdict/runtime';
import type { BatchReport } from '../src/domain/dynamic-batcher.js';
import { JUDGE_SERVICE_NAME } from '../src/index.js';
import { type GatedModel, gateModel, loadModel, startJudgeApp, waitFor } from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

const S = judgeV1.JudgeStatus;
const MAX_POSITIONS = 96;

function item(id: string, question = `What is ${id} plus 2?`, solution = `It is ${id} and 2.`) {
  return { id, question, solution, templateName: '' };
}

async function rejection(promise: Promise<unknown>): Promise<VerdictError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isVerdictError(error), `expected a VerdictError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('judge-server over gRPC', () => {
  const fixture = writeToyJudgeModel({ maxPositions: MAX_POSITIONS });
  const model = loadModel(fixture.dir);
  let gated: GatedModel;
  const batches: BatchReport[] = [];
  let app: ReturnType<typeof startJudgeApp>;
  let judgeClient: ReturnType<typeof createGrpcClient<judgeV1.JudgeServiceClient>>;
  let healthClient: ReturnType<typeof createGrpcClient<health.HealthClient>>;

  before(async () => {
    gated = gateModel(model);
    app = startJudgeApp(
      fixture.dir,
      {
        JUDGE_MAX_BATCH_SIZE: '32',
        JUDGE_MAX_BATCH_WAIT: '5',
        JUDGE_MAX_QUEUE_ITEMS: '16',
        JUDGE_MAX_REQUEST_ITEMS: '20',
        JUDGE_MAX_QUEUE_WAIT: '1s',
        JUDGE_MODEL_ID: 'toy-judge',
      },
      { model: gated, onBatch: (r) => batches.push(r) },
    );
    // Readiness: the model's warm-up call is held at the gate, so the server is up but the
    // lifecycle (and health) cannot be SERVING yet.
    gated.hold();
    const started = app.start();
    await waitFor(() => gated.calls > 0);
    const early = createGrpcClient(health.HealthClient, app.address!, { defaultDeadlineMs: 5_000 });
    const loading = await early.unary('check', { service: JUDGE_SERVICE_NAME });
    assert.equal(loading.status, health.HealthCheckResponse_ServingStatus.NOT_SERVING);
    early.close();
    gated.release();
    const { address } = await started;
    judgeClient = createGrpcClient(judgeV1.JudgeServiceClient, address, { defaultDeadlineMs: 20_000 });
    healthClient = createGrpcClient(health.HealthClient, address, { defaultDeadlineMs: 5_000 });
  });

  after(async () => {
    judgeClient?.close();
    healthClient?.close();
    await app?.stop();
    await model.close();
    fixture.cleanup();
  });

  it('reports SERVING once the model is loaded', async () => {
    const reply = await healthClient.unary('check', { service: JUDGE_SERVICE_NAME });
    assert.equal(reply.status, health.HealthCheckResponse_ServingStatus.SERVING);
  });

  it('returns the same numbers as a direct judge() call, with provenance on every result', async () => {
    const items = ['1', '2', '3', '4', '5'].map((id) => item(id));
    const { results } = await judgeClient.unary('judgeBatch', { items });
    const direct = await judge(
      model,
      items.map((i) => ({ question: i.question, answer: i.solution })),
      { template: 'plain' },
    );
    assert.equal(results.length, items.length);
    results.forEach((r, i) => {
      const d = direct[i]!;
      assert.equal(r.id, items[i]!.id);
      assert.equal(r.status, S.JUDGE_STATUS_OK);
      assert.ok(Math.abs(r.score - d.score) < 1e-6, `score ${r.score} vs ${d.score}`);
      assert.ok(Math.abs(r.pYesFull - d.pYesFull) < 1e-6);
      assert.ok(Math.abs(r.otherMass - d.otherMass) < 1e-6);
      assert.equal(r.yesTokenId, d.yesId);
      assert.equal(r.noTokenId, d.noId);
      assert.ok(Math.abs(r.yesLogit - d.zYes) < 1e-5);
      assert.equal(r.provenance?.judgeModelId, 'toy-judge');
      assert.equal(r.provenance?.templateName, 'plain');
      assert.match(r.provenance?.templateHash ?? '', /^[0-9a-f]{64}$/);
    });
  });

  it('coalesces items of concurrent calls into one model call', async () => {
    gated.hold();
    const first = judgeClient.unary('judgeBatch', { items: [item('busy')] });
    await waitFor(() => gated.waiting === 1);
    const before = batches.length;
    const calls = Array.from({ length: 6 }, (_, c) =>
      judgeClient.unary('judgeBatch', { items: [item(`c${c}a`), item(`c${c}b`)] }),
    );
    await waitFor(() => app.stats().queueDepth === 12);
    gated.release();
    const replies = await Promise.all([first, ...calls]);
    for (const r of replies) for (const x of r.results) assert.equal(x.status, S.JUDGE_STATUS_OK);
    const after = batches.slice(before);
    // The held batch ('busy') plus one batch holding all 12 waiting items.
    assert.deepEqual(
      after.map((b) => b.size),
      [1, 12],
    );
  });

  it('answers RESOURCE_EXHAUSTED when the queue is full, while accepted calls complete', async () => {
    gated.hold();
    const running = judgeClient.unary('judgeBatch', { items: [item('r')] });
    await waitFor(() => gated.waiting === 1);
    const queued = judgeClient.unary('judgeBatch', {
      items: Array.from({ length: 10 }, (_, i) => item(`q${i}`)),
    });
    await waitFor(() => app.stats().queueDepth === 10);
    const refused = await rejection(
      judgeClient.unary('judgeBatch', { items: Array.from({ length: 10 }, (_, i) => item(`x${i}`)) }),
    );
    assert.equal(refused.code, 'RESOURCE_EXHAUSTED');
    assert.match(refused.message, /queue full: 10 of 16/);
    gated.release();
    const [a, b] = await Promise.all([running, queued]);
    assert.equal(a.results[0]?.status, S.JUDGE_STATUS_OK);
    assert.equal(b.results.length, 10);
    assert.ok(b.results.every((r) => r.status === S.JUDGE_STATUS_OK));
  });

  it('does not compute items whose call deadline passed, and fails the call with DEADLINE_EXCEEDED', async () => {
    gated.hold();
    const running = judgeClient.unary('judgeBatch', { items: [item('slow')] });
    await waitFor(() => gated.waiting === 1);
    const judgedBefore = app.stats().itemsJudged;
    const late = await rejection(
      judgeClient.unary('judgeBatch', { items: [item('late1'), item('late2')] }, { deadlineMs: 150 }),
    );
    assert.equal(late.code, 'DEADLINE_EXCEEDED');
    await waitFor(() => app.stats().queueDepth === 0);
    gated.release();
    await running;
    // Only the held item was judged: the two late ones left the queue without a model call.
    await waitFor(() => app.stats().itemsJudged === judgedBefore + 1);
    const extra = await judgeClient.unary('judgeBatch', { items: [item('after')] });
    assert.equal(extra.results[0]?.status, S.JUDGE_STATUS_OK);
    assert.equal(app.stats().itemsJudged, judgedBefore + 2);
  });

  it('gives stream items that out-wait the queue bound a TIMEOUT status', async () => {
    gated.hold();
    const running = judgeClient.unary('judgeBatch', { items: [item('hold')] });
    await waitFor(() => gated.waiting === 1);
    const results: judgeV1.JudgeResult[] = [];
    const streamDone = (async () => {
      for await (const r of judgeClient.bidi('judgeStream', [{ item: item('t1') }, { item: item('t2') }])) {
        if (r.result !== undefined) results.push(r.result);
      }
    })();
    await waitFor(() => app.stats().queueDepth === 2);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // JUDGE_MAX_QUEUE_WAIT = 1s
    gated.release();
    await Promise.all([running, streamDone]);
    assert.deepEqual(results.map((r) => [r.id, r.status]).sort(), [
      ['t1', S.JUDGE_STATUS_TIMEOUT],
      ['t2', S.JUDGE_STATUS_TIMEOUT],
    ]);
    assert.match(results[0]?.message ?? '', /deadline passed/);
  });

  describe('malformed requests get INVALID_ARGUMENT naming the field', () => {
    const cases: Array<[string, judgeV1.JudgeItem[], string, RegExp]> = [
      ['empty question', [item('a'), item('b', '  ')], 'items[1].question', /must not be empty/],
      ['empty solution', [item('a', 'Q?', '')], 'items[0].solution', /must not be empty/],
      [
        'oversized batch',
        Array.from({ length: 21 }, (_, i) => item(`i${i}`)),
        'items',
        /21 entries, more than the server's limit of 20/,
      ],
      [
        'prompt longer than the model positions',
        [item('long', 'How many?', 'one two three '.repeat(40))],
        'items[0].solution',
        /more than the judge model's max_position_embeddings \(96\)/,
      ],
      [
        'unknown template',
        [{ ...item('t'), templateName: 'nope' }],
        'items[0].template_name',
        /unknown judge template "nope"/,
      ],
      ['duplicate id', [item('d'), item('d')], 'items[1].id', /duplicate item id/],
    ];
    for (const [name, items, field, message] of cases) {
      it(name, async () => {
        const judgedBefore = app.stats().itemsJudged;
        const error = await rejection(judgeClient.unary('judgeBatch', { items }));
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.equal(error.field, field);
        assert.match(error.message, message);
        assert.equal(app.stats().itemsJudged, judgedBefore, 'nothing of a rejected request is judged');
      });
    }
  });

  it('JudgeStream answers every item by id, invalid ones with INVALID, and full-queue ones with OVERLOADED', async () => {
    const direct = await judgeClient.unary('judgeBatch', { items: [item('s1'), item('s2')] });
    const got = new Map<string, judgeV1.JudgeResult>();
    for await (const r of judgeClient.bidi('judgeStream', [
      { item: item('s1') },
      { item: item('bad', 'Q?', '') },
      { item: item('s2') },
      { item: { ...item('tpl'), templateName: 'chat' } },
    ])) {
      if (r.result !== undefined) got.set(r.result.id, r.result);
    }
    assert.equal(got.size, 4);
    assert.equal(got.get('bad')?.status, S.JUDGE_STATUS_INVALID);
    assert.match(got.get('bad')?.message ?? '', /solution must not be empty/);
    assert.equal(got.get('tpl')?.status, S.JUDGE_STATUS_INVALID, 'the toy tokenizer has no chat template');
    for (const [i, id] of ['s1', 's2'].entries()) {
      assert.equal(got.get(id)?.status, S.JUDGE_STATUS_OK);
      assert.ok(Math.abs((got.get(id)?.score ?? -1) - direct.results[i]!.score) < 1e-6);
    }

    gated.hold();
    const running = judgeClient.unary('judgeBatch', { items: [item('h')] });
    await waitFor(() => gated.waiting === 1);
    const statuses: number[] = [];
    const stream = (async () => {
      const requests = Array.from({ length: 20 }, (_, i) => ({ item: item(`o${i}`) }));
      for await (const r of judgeClient.bidi('judgeStream', requests)) statuses.push(r.result!.status);
    })();
    await waitFor(() => statuses.length === 4); // 16 fit the queue, 4 are refused at once
    assert.ok(statuses.every((s): boolean => s === S.JUDGE_STATUS_OVERLOADED));
    gated.release();
    await Promise.all([running, stream]);
    assert.equal(statuses.length, 20);
    assert.equal(statuses.filter((s) => s === S.JUDGE_STATUS_OK).length, 16);
  });
});
