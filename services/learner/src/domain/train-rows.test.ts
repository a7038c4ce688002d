import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SampleGroup, ScoredSample } from './scored-sample.js';
import { chunk, grpoRows, packRows } from './train-rows.js';

function s(i: number, status: ScoredSample['status'], total: number, completion: number[]): ScoredSample {
  return {
    rolloutId: `x${i}`,
    runId: 'r',
    step: 1,
    groupId: 'g',
    groupIndex: i,
    groupSize: 3,
    questionId: 'q',
    labeled: false,
    promptIds: [1, 10, 11],
    completionIds: completion,
    rolloutLogprobs: completion.map((_, j) => -(j + 1) / 10),
    policyVersion: 0,
    terminal: true,
    status,
    total,
    generatorId: 'a',
  };
}

test('masked samples are out of the group statistics and out of the batch (never reward 0)', () => {
  const g: SampleGroup = {
    groupId: 'g',
    step: 1,
    samples: [s(0, 'OK', 1, [5]), s(1, 'TIMEOUT', 0, [6]), s(2, 'OK', 0, [7, 8])],
  };
  const { rows, zeroVarianceGroups } = grpoRows([g]);
  assert.equal(zeroVarianceGroups, 0);
  assert.deepEqual(
    rows.map((r) => r.sample.rolloutId),
    ['x0', 'x2'],
  );
  // Two OK rewards 1 and 0: sample std = 0.7071, advantages ±0.7071.
  assert.ok(Math.abs(rows[0]!.advantage - Math.SQRT1_2) < 1e-5);
  assert.ok(Math.abs(rows[1]!.advantage + Math.SQRT1_2) < 1e-5);
});

test('dropZeroVariance: a group whose rewards all agree stays out of the batch and is counted', () => {
  const agree: SampleGroup = {
    groupId: 'h',
    step: 1,
    samples: [s(3, 'OK', 1, [5]), s(4, 'OK', 1, [6]), s(5, 'TIMEOUT', 0, [7])],
  };
  const signal: SampleGroup = { groupId: 'g', step: 1, samples: [s(0, 'OK', 1, [5]), s(2, 'OK', 0, [7, 8])] };
  const kept = grpoRows([agree, signal]);
  assert.equal(kept.zeroVarianceGroups, 1);
  assert.equal(kept.droppedGroups, 0);
  // By default (as before) they train with advantage 0 and count in the token-mean.
  assert.deepEqual(
    kept.rows.map((r) => [r.sample.rolloutId, r.advantage === 0]),
    [
      ['x3', true],
      ['x4', true],
      ['x0', false],
      ['x2', false],
    ],
  );
  const dropped = grpoRows([agree, signal], { dropZeroVariance: true });
  assert.equal(dropped.zeroVarianceGroups, 1);
  assert.equal(dropped.droppedGroups, 1);
  assert.deepEqual(
    dropped.rows.map((r) => r.sample.rolloutId),
    ['x0', 'x2'],
  );
});

test('packRows: right padding, targets shifted, loss mask exactly on completion tokens', () => {
  const rows = [
    { sample: s(0, 'OK', 1, [5]), advantage: 0.5 },
    { sample: s(2, 'OK', 0, [7, 8]), advantage: -0.5 },
  ];
  const b = packRows(rows);
  assert.equal(b.batchSize, 2);
  assert.equal(b.seqLen, 4); // longest = 3 prompt + 2 completion, minus one
  assert.deepEqual([...b.inputIds], [1, 10, 11, 0, 1, 10, 11, 7]);
  assert.deepEqual([...b.targets], [10, 11, 5, 0, 10, 11, 7, 8]);
  assert.deepEqual([...b.attentionMask], [1, 1, 1, 0, 1, 1, 1, 1]);
  assert.deepEqual([...b.lossMask], [0, 0, 1, 0, 0, 0, 1, 1]);
  assert.deepEqual([...b.advantages], [0, 0, 0.5, 0, 0, 0, -0.5, -0.5]);
  assert.deepEqual(
    [...b.rolloutLogprobs].map((x) => Math.round(x * 10)),
    [0, 0, -1, 0, 0, 0, -1, -2],
  );
  assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
});
