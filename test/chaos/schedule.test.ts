import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rolloutIds, settleLedger } from './ledger.js';
import { chaosSchedule, formatSchedule, parseSchedule } from './schedule.js';

const TARGETS = ['judge-server', 'reward-service', 'policy-server-0', 'policy-server-1', 'learner'];
const options = { seed: 5, faults: 24, totalMessages: 3_600, targets: TARGETS, natsEvery: 5 };

test('a chaos schedule is a pure function of its seed, spread over the run, with a nats-server restart in every block', () => {
  const a = chaosSchedule(options);
  assert.deepEqual(chaosSchedule(options), a);
  assert.notDeepEqual(chaosSchedule({ ...options, seed: 6 }), a);
  assert.equal(a.length, 24);
  for (let i = 0; i < a.length; i += 5) {
    const block = a.slice(i, i + 5);
    if (block.length === 5) assert.equal(block.filter((f) => f.kind === 'nats').length, 1, `block at ${i}`);
  }
  const at = a.map((f) => f.atMessage);
  assert.deepEqual(
    at,
    [...at].sort((x, y) => x - y),
    'in run order',
  );
  assert.ok(at[0]! >= 3_600 * 0.05 && at.at(-1)! <= 3_600 * 0.9, `inside the run: ${at[0]} … ${at.at(-1)}`);
  assert.ok(new Set(a.filter((f) => f.kind === 'kill').map((f) => f.target)).size >= 3, 'several victims');
});

test('the printed schedule reads back to the same faults; a bad token is named', () => {
  const a = chaosSchedule(options);
  assert.deepEqual(parseSchedule(formatSchedule(a), TARGETS), a);
  assert.deepEqual(parseSchedule('', TARGETS), []);
  assert.throws(
    () => parseSchedule('10+0:kill:learner:5 10+0:kill:nobody:5', TARGETS),
    /10\+0:kill:nobody:5/,
  );
  assert.throws(() => parseSchedule('10+0:nats:SIGHUP:5', TARGETS), /SIGKILL or SIGTERM/);
  assert.throws(() => parseSchedule('10:kill:learner:5', TARGETS), /bad fault "10:kill:learner:5"/);
});

test('the ledger counts an id missing at any stage or untrained as lost, and a second copy or a re-trained step as duplicated', () => {
  const expected = rolloutIds('r', 2, 1, 2);
  assert.deepEqual(expected, ['r.s1.q0.g0', 'r.s1.q0.g1', 'r.s2.q0.g0', 'r.s2.q0.g1']);
  const once = new Map(expected.map((id) => [id, 1]));
  const clean = {
    expected,
    stored: { requested: once, generated: once, scored: once },
    trained: expected,
    stepSamples: [
      { step: 1, samples: 2 },
      { step: 2, samples: 2 },
    ],
    steps: 2,
    perStep: 2,
  };
  assert.deepEqual(settleLedger(clean), { lost: 0, duplicated: 0, problems: [] });

  const missing = new Map(once);
  missing.delete('r.s2.q0.g1');
  const twice = new Map(once).set('r.s1.q0.g0', 2);
  const broken = settleLedger({
    ...clean,
    stored: { requested: once, generated: twice, scored: missing },
    trained: expected.slice(1),
    stepSamples: [...clean.stepSamples, { step: 2, samples: 2 }],
  });
  assert.equal(broken.lost, 2, broken.problems.join('\n'));
  assert.equal(broken.duplicated, 1 + 2, broken.problems.join('\n'));
  assert.ok(broken.problems.includes('r.s1.q0.g0: stored 2 times on generated'));
  assert.ok(broken.problems.includes('r.s2.q0.g1: never stored on scored'));
  assert.ok(broken.problems.includes("r.s1.q0.g0: not in the learner's consumed set"));
  assert.ok(broken.problems.includes('step 2: 2 metrics lines'));
});
