import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScoredSample } from './scored-sample.js';
import { StepCollector } from './step-collector.js';

function sample(step: number, q: number, i: number, over: Partial<ScoredSample> = {}): ScoredSample {
  return {
    rolloutId: `r.s${step}.q${q}.g${i}`,
    runId: 'r',
    step,
    groupId: `r.s${step}.q${q}`,
    groupIndex: i,
    groupSize: 2,
    questionId: `toy-${q}`,
    labeled: true,
    promptIds: [1, 5],
    completionIds: [7, 2],
    rolloutLogprobs: [-1, -2],
    policyVersion: step - 1,
    terminal: true,
    status: 'OK',
    total: i,
    generatorId: 'a',
    ...over,
  };
}

test('a step completes when every group holds G samples; redeliveries are not added twice', () => {
  const c = new StepCollector();
  c.expect(1, [
    { groupId: 'r.s1.q0', size: 2 },
    { groupId: 'r.s1.q1', size: 2 },
  ]);
  assert.equal(c.missingGroups(1), 2);
  assert.equal(c.add(sample(1, 0, 0)), 'accepted');
  assert.equal(c.add(sample(1, 0, 0)), 'pending');
  assert.equal(c.add(sample(1, 0, 1)), 'accepted');
  assert.equal(c.missingGroups(1), 1);
  assert.equal(c.add(sample(1, 1, 0)), 'accepted');
  assert.equal(c.add(sample(1, 1, 1, { status: 'TIMEOUT' })), 'accepted');
  assert.equal(c.missingGroups(1), 0);
  const t = c.take(0, 0);
  assert.equal(t.groups.length, 2);
  assert.equal(t.stale.length, 0);
  assert.equal(t.settledIds.length, 4);
  // Consumed ids stay seen (the checkpoint persists them): a late redelivery is recognised.
  assert.equal(c.add(sample(1, 0, 0)), 'seen');
  const resumed = new StepCollector(c.seenIds());
  assert.equal(resumed.add(sample(1, 1, 1)), 'seen');
});

test('samples older than the staleness bound are dropped with their group and counted', () => {
  const c = new StepCollector();
  c.expect(3, [{ groupId: 'r.s3.q0', size: 2 }]);
  c.add(sample(3, 0, 0, { policyVersion: 2 }));
  c.add(sample(3, 0, 1, { policyVersion: 0 }));
  const strict = c.take(2, 1);
  assert.equal(strict.groups.length, 0);
  assert.deepEqual(strict.stale.map((s) => s.rolloutId).sort(), ['r.s3.q0.g0', 'r.s3.q0.g1']);
  assert.equal(c.heldCount, 0);
});

test('within the bound, a lagging sample is kept; incomplete groups wait', () => {
  const c = new StepCollector();
  c.expect(3, [
    { groupId: 'r.s3.q0', size: 2 },
    { groupId: 'r.s3.q1', size: 2 },
  ]);
  c.add(sample(3, 0, 0, { policyVersion: 1 }));
  c.add(sample(3, 0, 1, { policyVersion: 2 }));
  c.add(sample(3, 1, 0, { policyVersion: 2 }));
  const t = c.take(2, 1);
  assert.equal(t.groups.length, 1);
  assert.equal(t.stale.length, 0);
  assert.equal(c.heldCount, 1);
  assert.equal(c.missingGroups(3), 1);
});

test('a sample that does not fit its group is refused', () => {
  const c = new StepCollector();
  c.expect(1, [{ groupId: 'r.s1.q0', size: 2 }]);
  assert.equal(c.add(sample(1, 0, 5)), 'unexpected');
});
