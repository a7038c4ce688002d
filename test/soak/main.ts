// `npm run soak`: a long training run under the chaos driver (SIGKILLed services, nats-server
// restarts on its file store), then the same run undisturbed; prints the exactly-once accounting and
// both final weights' sha256. Exit 1 unless nothing was lost or duplicated and the weights are equal.
//
//   npm run soak                                   # 10 minutes of chaos, seed 1
//   npm run soak -- --duration 3m --seed 7         # shorter, another schedule
//   npm run soak -- --steps 40 --schedule '120+30:kill:learner:200 300+0:nats:SIGKILL:1500'   # replay
import { parseArgs } from 'node:util';
import {
  CHAOS_TARGETS,
  type ChaosRunResult,
  firstDifference,
  MESSAGES_PER_STEP,
  runChaos,
} from '../chaos/chaos-run.js';
import { chaosSchedule, type Fault, formatSchedule, parseSchedule } from '../chaos/schedule.js';
import { writeToyJudge, writeToyStudent } from '../support/toy-models.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env['SOAK_DURATION'] ?? '10m' },
    seed: { type: 'string', default: '1' },
    steps: { type: 'string' },
    faults: { type: 'string' },
    schedule: { type: 'string' },
  },
});

/** `90s`, `10m`, `1h`, `5000ms` or plain milliseconds. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new Error(`--duration: want e.g. 10m, 90s or 600000 (got ${JSON.stringify(text)})`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms']!;
  return Number(m[1]) * unit;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const durationMs = parseDuration(values.duration!);
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0)
  throw new Error(`--seed must be a non-negative integer (got ${values.seed})`);

const student = writeToyStudent();
const judge = writeToyJudge();
try {
  let steps = values.steps !== undefined ? Number(values.steps) : undefined;
  if (steps === undefined) {
    // The run's length is set from this machine's undisturbed step time (steps 2–8; with 3 steps the
    // estimate ranged 0.40–0.61 s for a true 0.2–0.36 s). Faults only lengthen a run and are spread
    // over all of it, so duration / step time steps keep them coming for at least the duration.
    log('soak: calibrating (8 undisturbed steps)');
    const calib = await runChaos({
      steps: 8,
      schedule: [],
      studentDir: student.dir,
      judgeDir: judge.dir,
      log,
      timeoutMs: 600_000,
    });
    steps = Math.max(4, Math.round(durationMs / calib.stepMs));
    log(`soak: ${calib.stepMs.toFixed(0)} ms per undisturbed step → ${steps} steps`);
  }
  if (!Number.isInteger(steps) || steps < 2)
    throw new Error(`--steps must be an integer ≥ 2 (got ${values.steps})`);
  const faultCount =
    values.faults !== undefined ? Number(values.faults) : Math.max(24, Math.round(durationMs / 25_000));
  const schedule: Fault[] =
    values.schedule !== undefined
      ? parseSchedule(values.schedule, CHAOS_TARGETS)
      : chaosSchedule({
          seed,
          faults: faultCount,
          totalMessages: steps * MESSAGES_PER_STEP,
          targets: CHAOS_TARGETS,
          natsEvery: 5,
        });
  log(`soak: seed ${seed}, ${steps} steps, schedule (replay with --steps ${steps} --schedule '…'):`);
  log(`soak: schedule '${formatSchedule(schedule)}'`);
  const common = { steps, studentDir: student.dir, judgeDir: judge.dir, log };
  const chaos = await runChaos({ ...common, schedule, timeoutMs: durationMs * 4 + 600_000 });
  log(`soak: chaos run ${(chaos.durationMs / 1000).toFixed(0)} s; now the undisturbed run`);
  const calm: ChaosRunResult = await runChaos({
    ...common,
    schedule: [],
    timeoutMs: durationMs * 4 + 600_000,
  });
  for (const p of chaos.problems) log(`soak: problem: ${p}`);
  const equal = chaos.weightsSha256 === calm.weightsSha256;
  if (!equal)
    log(`soak: first rollout that differs: ${firstDifference(chaos.outcomes, calm.outcomes) ?? 'none'}`);
  log(
    `soak: chaos ${(chaos.durationMs / 1000).toFixed(0)} s, undisturbed ${(calm.durationMs / 1000).toFixed(0)} s; ` +
      `kills ${JSON.stringify(chaos.kills)}, faults not reached ${chaos.notReached}`,
  );
  log(
    `soak: redeliveries ${chaos.redeliveries}, duplicates caught ${chaos.duplicatesCaught}, failed starts retried ${chaos.startRetries}, masked samples ${chaos.masked} (undisturbed: ${calm.masked})`,
  );
  log(`soak: final weights sha256 chaos ${chaos.weightsSha256}`);
  log(`soak: final weights sha256 undisturbed ${calm.weightsSha256}`);
  process.stdout.write(
    `soak: faults ${chaos.faults}, nats restarts ${chaos.natsRestarts}, lost ${chaos.lost}, duplicated ${chaos.duplicated}, weights equal: ${equal ? 'yes' : 'no'}\n`,
  );
  process.exitCode = chaos.lost === 0 && chaos.duplicated === 0 && equal ? 0 : 1;
} finally {
  student.cleanup();
  judge.cleanup();
}
