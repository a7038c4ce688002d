// Issue 17's Score findings through the real gRPC server (port 0): sizes and weights are checked
// before any item is scored, each refusal is INVALID_ARGUMENT naming the field and the limit,
// and no status echoes client text of any length.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { commonV1, rewardV1 } from '@verdict/proto';
import { createGrpcClient, isVerdictError } from '@verdict/runtime';
import { type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import type { RewardServiceApp } from '../src/app.js';
import { createTestRewardApp } from './helpers.js';

let nats: NatsServerHandle;
let app: RewardServiceApp;
let client: ReturnType<typeof connect>;
const connect = (address: string) =>
  createGrpcClient(rewardV1.RewardServiceClient, address, { defaultDeadlineMs: 20_000 });

before(async () => {
  nats = await startNatsServer();
  // VR only: no judge-server needed for these checks.
  app = createTestRewardApp({ NATS_URL: nats.url, REWARD_LAMBDA_VR: '1', REWARD_MU_JUDGE: '0' });
  const { address } = await app.start();
  client = connect(address);
});

after(async () => {
  client.close();
  await app.stop();
  await nats.stop();
});

const item = (o: Partial<rewardV1.ScoreItem> = {}): rewardV1.ScoreItem => ({
  id: 'a',
  question: 'What is 2 + 2?',
  completion: '2 + 2 = 4 #### 4',
  labeled: true,
  goldAnswer: '4',
  groupId: '',
  ...o,
});
const config = (o: Partial<rewardV1.RewardConfig> = {}): rewardV1.RewardConfig => ({
  weights: { lambdaVr: 1, muJudge: 0, rhoRerank: 0 },
  judgeTemplateName: '',
  judgeAbstainBand: 0,
  verifiableCheck: 0,
  ...o,
});
const score = (items: rewardV1.ScoreItem[], c?: rewardV1.RewardConfig) =>
  client.unary('score', { items, ...(c ? { config: c } : {}) });

async function rejects(p: Promise<unknown>, field: RegExp, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVerdictError(e), String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
    assert.match(e.field ?? '', field);
    assert.match(e.message, message);
    assert.ok(e.message.length <= 2048, `status message is ${e.message.length} chars`);
    return true;
  });
}

test('λ = 1, μ = ρ = 0 on an unlabeled item is INVALID_ARGUMENT naming config.weights, not INTERNAL', async () => {
  await rejects(
    score([item({ labeled: false, goldAnswer: undefined })], config()),
    /^config\.weights$/,
    /items\[0\] is unlabeled.*mu_judge = 0, rho_rerank = 0/,
  );
  // The server default (λ = 1) as well.
  await rejects(score([item({ labeled: false, goldAnswer: undefined })]), /^config\.weights$/, /unlabeled/);
});

test('judge_timeout of −1 s, 2^63−1 s or negative nanos is INVALID_ARGUMENT naming the field and range', async () => {
  for (const judgeTimeout of [
    { seconds: -1n, nanos: 0 },
    { seconds: 2n ** 63n - 1n, nanos: 0 },
    { seconds: 1n, nanos: -5 },
  ]) {
    await rejects(score([item()], config({ judgeTimeout })), /^config\.judge_timeout$/, /\[0, 600 s\]/);
  }
});

test('a 1 MB judge_template_name, id or completion is refused with a short message naming the limit', async () => {
  const mb = 'x'.repeat(1 << 20);
  await rejects(
    score([item()], config({ judgeTemplateName: mb })),
    /^config\.judge_template_name$/,
    /at most 128 characters \(got 1048576\)/,
  );
  await rejects(score([item({ id: mb })]), /^items\[0\]\.id$/, /at most 256 characters/);
  await rejects(
    score([item(), item({ id: 'b', completion: mb })]),
    /^items\[1\]\.completion$/,
    /at most 262144 characters/,
  );
  await rejects(score([item({ groupId: mb })]), /^items\[0\]\.group_id$/, /at most 256/);
});

test('duplicate ids are quoted truncated', async () => {
  const id = 'd'.repeat(256);
  await rejects(
    score([item({ id }), item({ id })]),
    /^items\[1\]\.id$/,
    /duplicate item id "d{63}… \(258 bytes\)$/,
  );
});

test('a completion of `#### ` + 200,000 dots + `x` is scored (linear answer extraction)', async () => {
  const res = await score([item({ completion: `#### ${'.'.repeat(200_000)}x` }), item({ id: 'b' })]);
  assert.equal(res.items[0]?.result?.status, commonV1.RewardStatus.REWARD_STATUS_OK);
  assert.equal(res.items[0]?.result?.components?.verifiable?.value, 0);
  assert.equal(res.items[1]?.result?.components?.verifiable?.value, 1);
});
