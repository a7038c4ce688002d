// The fuzzer's own parts, without a stack: the oracle refuses what it must, and a case is a pure
// function of (seed, method, index), so a printed replay command rebuilds the same bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { health } from '@verdict/proto';
import type { CallOutcome } from './call.js';
import { buildCase, hintsFor } from './cases.js';
import { nestedBytes } from './generate.js';
import { judge } from './oracle.js';
import { loadSchema } from './schema.js';
import { utf8, WIRE, WireWriter } from './wire.js';

const schema = loadSchema();
const check = schema.methods.find((m) => m.id === 'judge-server/Health/Check')!;
const limits = { blockedMs: 0, blockMs: 1500, deadlineMs: 3000, graceMs: 2000 };

function outcome(o: Partial<CallOutcome>): CallOutcome {
  return {
    code: status.OK,
    details: '',
    replies: [],
    replyBytes: 0,
    trailerBytes: 0,
    cancelledByUs: false,
    hung: false,
    elapsedMs: 1,
    ...o,
  };
}

test('the oracle accepts refusals that name the input and refuses INTERNAL, hangs, stalls and echoes', () => {
  const ok = Buffer.from(health.HealthCheckResponse.encode({ status: 1 }).finish());
  assert.deepEqual(judge(check, outcome({ replies: [ok] }), limits), []);
  for (const code of [status.INVALID_ARGUMENT, status.NOT_FOUND, status.RESOURCE_EXHAUSTED]) {
    assert.deepEqual(judge(check, outcome({ code, details: 'bad' }), limits), []);
  }
  assert.deepEqual(judge(check, outcome({ code: status.CANCELLED, cancelledByUs: true }), limits), []);
  assert.match(judge(check, outcome({ code: status.INTERNAL, details: 'x' }), limits).join(), /INTERNAL/);
  assert.match(judge(check, outcome({ code: status.UNKNOWN }), limits).join(), /UNKNOWN/);
  assert.match(judge(check, outcome({ code: status.CANCELLED }), limits).join(), /CANCELLED/);
  assert.match(judge(check, outcome({ code: status.CANCELLED, hung: true }), limits).join(), /hang/);
  assert.match(judge(check, outcome({ code: status.DEADLINE_EXCEEDED }), limits).join(), /no reply within/);
  const score = schema.methods.find((m) => m.id === 'reward-service/RewardService/Score')!;
  assert.deepEqual(judge(score, outcome({ code: status.DEADLINE_EXCEEDED }), limits), []);
  assert.match(judge(check, outcome({}), { ...limits, blockedMs: 2000 }).join(), /event loop blocked/);
  assert.match(
    judge(check, outcome({ code: status.INVALID_ARGUMENT, details: 'x'.repeat(5000) }), limits).join(),
    /details of 5000 bytes/,
  );
  // A varint cut off after its first byte.
  const notAReply = Buffer.from([0x08, 0xff]);
  assert.match(judge(check, outcome({ replies: [notAReply] }), limits).join(), /not a grpc\.health/);
});

test('a case is rebuilt byte for byte from (seed, method, index); other indexes differ', () => {
  const hints = hintsFor(schema);
  for (const method of schema.methods) {
    const seen = new Set<string>();
    for (let index = 0; index < 20; index++) {
      const a = buildCase(method, 9, index, hints);
      const b = buildCase(method, 9, index, hints);
      assert.deepEqual(a.messages, b.messages, `${method.id} case ${index}`);
      seen.add(Buffer.concat(a.messages).toString('hex'));
    }
    // A request type without fields differs only by unknown fields and mutations.
    const least = method.desc.input.fields.length === 0 ? 2 : 10;
    assert.ok(seen.size >= least, `${method.id}: only ${seen.size} distinct cases of 20`);
  }
});

test('the schema holds every RPC of the five services, health on each', () => {
  const ids = schema.methods.map((m) => m.id);
  assert.equal(ids.length, 22);
  for (const server of ['judge-server', 'reward-service', 'policy-server', 'learner', 'evaluator']) {
    assert.ok(ids.includes(`${server}/Health/Check`) && ids.includes(`${server}/Health/Watch`), server);
  }
  assert.ok(ids.includes('judge-server/JudgeService/JudgeStream'));
  assert.ok(ids.includes('learner/LearnerService/StreamMetrics'));
});

test('nested unknown fields are written in one pass, byte for byte as level-by-level encoding', () => {
  for (const depth of [0, 1, 2, 150]) {
    let inner: Uint8Array = utf8('x');
    for (let i = 0; i < depth; i++) inner = new WireWriter().tag(1, WIRE.ld).ld(inner).finish();
    assert.deepEqual(Buffer.from(nestedBytes(depth)), Buffer.from(inner), `depth ${depth}`);
  }
});
