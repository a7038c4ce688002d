import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type JudgeResult, judge } from '@verdict/models';
import { judgeV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError } from '@verdict/runtime';
import { type GatedModel, gateModel, loadModel, startJudgeApp, waitFor } from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

const S = judgeV1.JudgeStatus;
const TOLERANCE = 1e-5;

const LONG_QUESTION = (n: number) => `What is ${n} plus 34 plus 56 plus 78 plus 90 plus 12 ?`;

function item(id: string, question: string, solution: string, groupKey?: string): judgeV1.JudgeItem {
  return { id, question, solution, templateName: '', ...(groupKey === undefined ? {} : { groupKey }) };
}

/**
 * A mixed batch: two groups sharing their question (solutions of different lengths, so the
 * suffixes are left-padded), a singleton group, a group whose questions differ (no shared
 * prefix: judged whole), items without a group key, and a group of identical items.
 */
function mixedItems(tag: string): judgeV1.JudgeItem[] {
  return [
    item(`${tag}a1`, LONG_QUESTION(11), 'It is 2 .', 'A'),
    item(`${tag}b1`, LONG_QUESTION(22), 'It is 2 plus 2 and 4 .', 'B'),
    item(`${tag}a2`, LONG_QUESTION(11), 'It is 12 plus 34 and then 46 plus 56 .', 'A'),
    item(`${tag}n1`, 'What is 3 plus 4 ?', 'It is 7 .'),
    item(`${tag}a3`, LONG_QUESTION(11), 'It is 5 .', 'A'),
    item(`${tag}s1`, LONG_QUESTION(33), 'It is 9 .', 'solo'),
    item(`${tag}b2`, LONG_QUESTION(22), 'It is 4 .', 'B'),
    item(`${tag}d1`, LONG_QUESTION(44), 'It is 1 .', 'D'),
    item(`${tag}d2`, 'What is 9 plus 9 ?', 'It is 18 .', 'D'),
    item(`${tag}n2`, LONG_QUESTION(11), 'It is 3 .'),
    item(`${tag}i1`, LONG_QUESTION(55), 'It is 6 .', 'I'),
    item(`${tag}i2`, LONG_QUESTION(55), 'It is 6 .', 'I'),
  ];
}

function assertSameScores(results: readonly judgeV1.JudgeResult[], direct: Map<string, JudgeResult>): void {
  for (const r of results) {
    const want = direct.get(r.id);
    assert.ok(want, `unexpected id ${r.id}`);
    assert.equal(r.status, S.JUDGE_STATUS_OK, `${r.id}: ${r.message}`);
    for (const [got, expected, what] of [
      [r.score, want.score, 'score'],
      [r.yesLogit, want.zYes, 'yes_logit'],
      [r.noLogit, want.zNo, 'no_logit'],
      [r.pYesFull, want.pYesFull, 'p_yes_full'],
    ] as const) {
      assert.ok(Math.abs(got - expected) <= TOLERANCE, `${r.id} ${what}: ${got} vs ${expected} (unshared)`);
    }
  }
}

describe('shared-prefix judging through the judge-server', () => {
  const fixture = writeToyJudgeModel({ maxPositions: 128 });
  const model = loadModel(fixture.dir);
  let gated: GatedModel;
  let app: ReturnType<typeof startJudgeApp>;
  let client: ReturnType<typeof createGrpcClient<judgeV1.JudgeServiceClient>>;

  /** Each item judged whole by the library, the reference of every comparison. */
  async function unshared(items: readonly judgeV1.JudgeItem[]): Promise<Map<string, JudgeResult>> {
    const results = await judge(
      model,
      items.map((i) => ({ question: i.question, answer: i.solution })),
      { template: 'plain', sharedPrefix: false },
    );
    return new Map(items.map((i, k) => [i.id, results[k]!]));
  }

  before(async () => {
    gated = gateModel(model);
    app = startJudgeApp(
      fixture.dir,
      { JUDGE_MAX_BATCH_SIZE: '32', JUDGE_MAX_BATCH_WAIT: '5', JUDGE_MAX_QUEUE_WAIT: '10s' },
      { model: gated },
    );
    const { address } = await app.start();
    client = createGrpcClient(judgeV1.JudgeServiceClient, address, { defaultDeadlineMs: 20_000 });
  });

  after(async () => {
    client?.close();
    await app?.stop();
    await model.close();
    fixture.cleanup();
  });

  it('JudgeBatch of a mixed batch scores as the unshared path, and shares the groups that share a prefix', async () => {
    const items = mixedItems('m');
    const prefixBefore = gated.prefixCalls;
    const { results } = await client.unary('judgeBatch', { items });
    assert.deepEqual(
      results.map((r) => r.id),
      items.map((i) => i.id),
    );
    assertSameScores(results, await unshared(items));
    assert.equal(gated.prefixCalls, prefixBefore + 1, 'one prefix pass for the groups of the batch');
  });

  it('JudgeStream items with group keys score as the unshared path', async () => {
    const items = mixedItems('s');
    const results: judgeV1.JudgeResult[] = [];
    for await (const r of client.bidi(
      'judgeStream',
      items.map((i) => ({ item: i })),
    )) {
      if (r.result !== undefined) results.push(r.result);
    }
    assert.deepEqual(results.map((r) => r.id).sort(), items.map((i) => i.id).sort());
    assertSameScores(results, await unshared(items));
  });

  it('grouped items whose deadline passed are not computed; the other group of the batch still shares', async () => {
    gated.hold();
    const running = client.unary('judgeBatch', { items: [item('hold', 'What is 1 plus 1 ?', 'It is 2 .')] });
    await waitFor(() => gated.waiting === 1);
    const judgedBefore = app.stats().itemsJudged;
    const prefixBefore = gated.prefixCalls;
    const late = client.unary(
      'judgeBatch',
      {
        items: [
          item('late1', LONG_QUESTION(66), 'It is 1 .', 'L'),
          item('late2', LONG_QUESTION(66), 'It is 2 .', 'L'),
        ],
      },
      { deadlineMs: 150 },
    );
    const onTime = mixedItems('t');
    const kept = client.unary('judgeBatch', { items: onTime });
    await assert.rejects(late, (e) => isVerdictError(e) && e.code === 'DEADLINE_EXCEEDED');
    gated.release();
    await running;
    const { results } = await kept;
    assertSameScores(results, await unshared(onTime));
    await waitFor(() => app.stats().itemsJudged === judgedBefore + 1 + onTime.length);
    assert.equal(gated.prefixCalls, prefixBefore + 1);
  });

  it('a group_key over 256 characters is INVALID_ARGUMENT naming the field', async () => {
    await assert.rejects(
      client.unary('judgeBatch', { items: [item('x', 'What is 1 plus 1 ?', 'It is 2 .', 'k'.repeat(257))] }),
      (e) =>
        isVerdictError(e) &&
        e.code === 'INVALID_ARGUMENT' &&
        /items\[0\]\.group_key: must be at most 256/.test(e.message),
    );
  });
});
