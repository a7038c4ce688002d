import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNormal } from '../test-support/prng.js';
import type { TrainingHealthObservation } from './reward-hacking-detector.js';
import { createRewardHackingDetector } from './reward-hacking-detector.js';

const config = {
  windowSteps: 50,
  // Few points make noisy slopes: with 5 points and noise 0.01 the fitted change over 50
  // steps has a std of ~0.16, enough for false alarms.
  minPoints: 20,
  judgeRiseThreshold: 0.1,
  agreementDropThreshold: 0.1,
  heldOutDropThreshold: 0.05,
};

/** Healthy for 100 steps, then (if hacking) judge reward climbs while agreement falls. */
function series(hacking: boolean, seed: number): TrainingHealthObservation[] {
  const noise = createNormal(seed);
  const out: TrainingHealthObservation[] = [];
  for (let step = 1; step <= 200; step++) {
    const late = Math.max(0, step - 100);
    const judgeReward = 0.5 + 0.001 * step + (hacking ? 0.004 * late : 0) + 0.01 * noise();
    const agreement = 0.8 - (hacking ? 0.004 * late : 0) + 0.01 * noise();
    // Held-out eval only every 10 steps.
    const heldOut = step % 10 === 0 ? { heldOutAccuracy: 0.3 + 0.0005 * step + 0.005 * noise() } : {};
    out.push({ step, judgeReward, agreement, ...heldOut });
  }
  return out;
}

describe('createRewardHackingDetector', () => {
  it('alarms when judge reward rises while agreement falls, with a reason', () => {
    const detector = createRewardHackingDetector(config);
    const verdicts = series(true, 1).map((o) => detector.observe(o));
    const first = verdicts.find((v) => v.alarm);
    assert.ok(first, 'expected an alarm');
    assert.ok(first.step > 100 && first.step < 150, `first alarm at ${first.step}`);
    assert.equal(detector.firstAlarmStep, first.step);
    assert.match(first.reason ?? '', /judge reward \+0\.\d+ over 50 steps.*agreement -0\.\d+/);
    assert.ok(
      verdicts.slice(0, 100).every((v) => !v.alarm),
      'no alarm in the healthy phase',
    );
  });

  it('stays quiet when judge reward and agreement both behave', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const detector = createRewardHackingDetector(config);
      assert.ok(
        series(false, seed).every((o) => !detector.observe(o).alarm),
        `seed ${seed}`,
      );
    }
  });

  it('does not alarm on falling agreement alone (no judge rise)', () => {
    const detector = createRewardHackingDetector(config);
    let alarm = false;
    for (let step = 1; step <= 100; step++) {
      alarm ||= detector.observe({ step, judgeReward: 0.6, agreement: 0.9 - 0.01 * step }).alarm;
    }
    assert.equal(alarm, false);
  });

  it('alarms on held-out accuracy dropping, sampled sparsely', () => {
    const detector = createRewardHackingDetector({ ...config, minPoints: 5 });
    const verdicts = [];
    for (let step = 1; step <= 100; step++) {
      verdicts.push(
        detector.observe({
          step,
          judgeReward: 0.4 + 0.005 * step,
          ...(step % 5 === 0 ? { heldOutAccuracy: 0.5 - 0.002 * step } : {}),
        }),
      );
    }
    const last = verdicts.at(-1);
    assert.equal(last?.alarm, true);
    assert.match(last?.reason ?? '', /held-out accuracy -0\.100/);
    assert.ok(Math.abs((last?.judgeRewardChange ?? 0) - 0.25) < 1e-9);
    assert.ok(Number.isNaN(last?.agreementChange ?? 0));
  });

  it('needs minPoints before a trend counts, and restores from a snapshot', () => {
    const detector = createRewardHackingDetector(config);
    const v = detector.observe({ step: 1, judgeReward: 0, agreement: 1 });
    assert.ok(Number.isNaN(v.judgeRewardChange));
    const obs = series(true, 3);
    const whole = createRewardHackingDetector(config);
    const wholeVerdicts = obs.map((o) => whole.observe(o));
    const part = createRewardHackingDetector(config);
    for (const o of obs.slice(0, 120)) part.observe(o);
    const resumed = createRewardHackingDetector(config, JSON.parse(JSON.stringify(part.snapshot())));
    const resumedVerdicts = obs.slice(120).map((o) => resumed.observe(o));
    assert.deepEqual(resumedVerdicts, wholeVerdicts.slice(120));
  });

  it('validates config and step order', () => {
    assert.throws(
      () => createRewardHackingDetector({ ...config, windowSteps: 0, minPoints: 1 }),
      /windowSteps.*minPoints/,
    );
    const d = createRewardHackingDetector(config);
    d.observe({ step: 5 });
    assert.throws(() => d.observe({ step: 5 }), /steps must increase/);
  });
});
