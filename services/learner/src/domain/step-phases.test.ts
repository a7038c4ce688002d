import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partitionRolloutWait, type RolloutTimeline } from './step-phases.js';

test('overlapping kinds count once, in the order generate > judge > reward; the parts sum to the window', () => {
  const timelines: RolloutTimeline[] = [
    // Two rollouts generated in one batch [10, 50], judged [55, 70] and [60, 80], scored by 85.
    {
      generationStartMs: 10,
      generationEndMs: 50,
      receivedMs: 52,
      judgeStartMs: 55,
      judgeEndMs: 70,
      scoredMs: 72,
    },
    {
      generationStartMs: 10,
      generationEndMs: 50,
      receivedMs: 53,
      judgeStartMs: 60,
      judgeEndMs: 80,
      scoredMs: 85,
    },
    // A third generated later while the first two were judged: its overlap is generation time.
    { generationStartMs: 65, generationEndMs: 75, receivedMs: 76, scoredMs: 77 },
  ];
  const p = partitionRolloutWait(timelines, 0, 100);
  assert.equal(p.generate, 40 + 10);
  assert.equal(p.judge, 10 + 5); // union [55, 80] less the generation [65, 75]
  assert.equal(p.reward, 3 + 5); // union [52, 85] less generation and judge: [52, 55] and [80, 85]
  assert.equal(p.messaging, 27);
  assert.equal(p.generate + p.judge + p.reward + p.messaging, 100);
});

test('intervals are clipped to the window; missing marks count as messaging', () => {
  const p = partitionRolloutWait(
    [
      { generationStartMs: -50, generationEndMs: 20 },
      { receivedMs: 30 },
      { judgeStartMs: 90, judgeEndMs: 150 },
    ],
    0,
    100,
  );
  assert.deepEqual(p, { generate: 20, judge: 10, reward: 0, messaging: 70 });
});

test('an empty or inverted window is all zero', () => {
  assert.deepEqual(partitionRolloutWait([], 10, 10), { generate: 0, judge: 0, reward: 0, messaging: 0 });
  assert.deepEqual(partitionRolloutWait([{ generationStartMs: 0, generationEndMs: 5 }], 10, 5), {
    generate: 0,
    judge: 0,
    reward: 0,
    messaging: 0,
  });
});
