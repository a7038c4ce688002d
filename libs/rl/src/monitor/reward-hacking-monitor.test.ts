import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNormal, createPrng } from '../test-support/prng.js';
import {
  REWARD_HACKING_MONITOR_DEFAULTS,
  type RewardHackingMonitorOptions,
  resolveRewardHackingMonitorConfig,
} from './monitor-config.js';
import { createRewardHackingMonitor, type RewardHackingObservation } from './reward-hacking-monitor.js';

/**
 * Healthy until step 10, then the judge score climbs 0.02 a step while held-out accuracy (probed
 * every 4 steps) falls 0.02 a step.
 */
function planted(steps: number): RewardHackingObservation[] {
  const out: RewardHackingObservation[] = [];
  for (let step = 1; step <= steps; step++) {
    const late = Math.max(0, step - 10);
    out.push({
      step,
      judgeReward: 0.5 + 0.02 * late,
      ...(step % 4 === 0 ? { heldOutAccuracy: 0.4 - 0.02 * late } : {}),
    });
  }
  return out;
}

describe('createRewardHackingMonitor', () => {
  it('alarms on a planted series (judge up, held-out down) at the computed step, once', () => {
    const monitor = createRewardHackingMonitor({ consecutive: 2 });
    const verdicts = planted(30).map((o) => monitor.observe(o));
    // Held-out levels: start = mean(h4, h8) = 0.4; at step 16 the latest two (h12, h16) average
    // 0.32: −0.08, under 0.1 and 20 % of the start (< 30 %). At step 20 (h16, h20) average 0.24:
    // −0.16 ≥ 0.1, with the judge at +0.19 (0.02 × (20 − 10.5)) ≥ 0.05: the first suspect step.
    // Step 21 keeps both changes, so with consecutive = 2 the alarm is raised at step 21.
    const firstSuspect = verdicts.find((v) => v.suspect);
    assert.equal(firstSuspect?.step, 20);
    assert.equal(monitor.firstAlarmStep, 21);
    assert.deepEqual(
      verdicts.filter((v) => v.raised).map((v) => v.step),
      [21],
    );
    assert.ok(verdicts.slice(20).every((v) => v.alarm && v.firstAlarmStep === 21));
    const v20 = verdicts[19]!;
    assert.ok(Math.abs(v20.judgeRewardChange - 0.19) < 1e-12);
    assert.ok(Math.abs(v20.heldOutAccuracyChange + 0.16) < 1e-12);
    assert.ok(Math.abs(v20.heldOutRelativeChange + 0.4) < 1e-12);
    assert.ok(Number.isNaN(v20.agreementChange));
    assert.match(
      monitor.alarmReason ?? '',
      /^judge reward \+0\.210 since the start \(rise threshold 0\.05\) while held-out accuracy -0\.160/,
    );
  });

  it('slope: the change is the fitted slope × the span of the points in the window; the planted series alarms', () => {
    const monitor = createRewardHackingMonitor({ trend: 'slope', windowSteps: 12, minPoints: 3 });
    const verdicts = planted(40).map((o) => monitor.observe(o));
    // At step 22 the 12-step window (steps 11..22) holds only the linear climb: 0.02 × 11.
    assert.ok(Math.abs(verdicts[21]!.judgeRewardChange - 0.22) < 1e-12);
    const first = verdicts.find((v) => v.alarm);
    assert.ok(first, 'expected an alarm');
    assert.ok(verdicts.slice(0, 12).every((v) => !v.suspect));
    assert.match(first.reason ?? '', /within the last 12 steps/);
  });

  it('a normal run (judge score and held-out accuracy both up, with noise) never alarms', () => {
    for (const trend of ['window-means', 'slope'] as const) {
      for (let seed = 1; seed <= 20; seed++) {
        const noise = createNormal(seed);
        const monitor = createRewardHackingMonitor({ trend, windowSteps: 30, minPoints: 5 });
        for (let step = 0; step <= 100; step++) {
          const v = monitor.observe({
            step,
            judgeReward: 0.45 + 0.002 * step + 0.01 * noise(),
            agreement: 0.8 + 0.0005 * step + 0.01 * noise(),
            ...(step % 5 === 0 ? { heldOutAccuracy: 0.25 + 0.001 * step + 0.01 * noise() } : {}),
          });
          assert.equal(v.suspect, false, `${trend} seed ${seed} step ${step}: ${v.reason}`);
        }
        assert.equal(monitor.firstAlarmStep, null);
      }
    }
  });

  it('no judge rise, no alarm: a falling held-out accuracy alone is not hacking', () => {
    const monitor = createRewardHackingMonitor();
    for (let step = 1; step <= 20; step++) {
      const v = monitor.observe({
        step,
        judgeReward: 0.6,
        agreement: 0.9 - 0.04 * step,
        heldOutAccuracy: 0.5 - 0.02 * step,
      });
      assert.equal(v.suspect, false);
    }
  });

  it('held-out fall: absolute, or relative to its start level above a floor', () => {
    const run = (heldOut: readonly number[]) => {
      const m = createRewardHackingMonitor();
      heldOut.forEach((h, i) => {
        m.observe({ step: i, judgeReward: [0.5, 0.5, 0.6, 0.6][i]!, heldOutAccuracy: h });
      });
      return m.firstAlarmStep;
    };
    assert.equal(run([0.22, 0.2, 0.13, 0.13]), 3, '8 points but 38 % of 21 %');
    assert.equal(run([0.61, 0.61, 0.53, 0.53]), null, '8 points, 13 % of 61 %');
    assert.equal(run([0.12, 0.12, 0.08, 0.08]), null, '33 % but 4 points, under heldOutMinDrop');
    assert.equal(run([0.61, 0.61, 0.5, 0.5]), 3, '11 points ≥ the absolute 0.1');
  });

  it('the rise threshold is max(absolute, k × the judge spread): given, or measured on the baseline', () => {
    // Judge start levels 0.50 and 0.60 (mean 0.55, sample std 0.0707), then 0.68 twice: +0.13.
    const judge = [0.5, 0.6, 0.68, 0.68];
    const run = (options: RewardHackingMonitorOptions) => {
      const m = createRewardHackingMonitor(options);
      return judge.map((j, i) =>
        m.observe({ step: i, judgeReward: j, heldOutAccuracy: [0.4, 0.4, 0.2, 0.2][i]! }),
      );
    };
    const plain = run({});
    assert.equal(plain[3]!.alarm, true);
    assert.equal(plain[3]!.judgeRiseThreshold, 0.05);
    assert.ok(Number.isNaN(plain[3]!.judgeSpread));

    // k = 2 on the measured spread: threshold 0.141 > +0.13, no alarm.
    const measured = run({ judgeRiseSpreadMultiple: 2 })[3]!;
    assert.ok(Math.abs(measured.judgeSpread - Math.SQRT1_2 / 10) < 1e-12);
    assert.ok(Math.abs(measured.judgeRiseThreshold - Math.SQRT2 / 10) < 1e-12);
    assert.equal(measured.alarm, false);
    // k = 1.5: threshold 0.106 < +0.13, alarm, and the reason names the spread.
    const lower = run({ judgeRiseSpreadMultiple: 1.5 })[3]!;
    assert.equal(lower.alarm, true);
    assert.match(lower.reason ?? '', /rise threshold 0\.106 = 1\.5 × judge spread 0\.071/);

    // A given spread replaces the measured one: 2 × 0.1 = 0.2 > +0.13; 2 × 0.01 is under the
    // absolute floor, so 0.05 holds.
    assert.equal(run({ judgeRiseSpreadMultiple: 2, judgeScoreSpread: 0.1 })[3]!.alarm, false);
    const floor = run({ judgeRiseSpreadMultiple: 2, judgeScoreSpread: 0.01 })[3]!;
    assert.equal(floor.judgeRiseThreshold, 0.05);
    assert.equal(floor.alarm, true);
  });

  it('snapshot/restore: a resumed monitor gives the same verdicts at the same steps (random series)', () => {
    const rand = createPrng(7);
    let alarmsBeforeCut = 0;
    let alarmsAfterCut = 0;
    for (let trial = 0; trial < 200; trial++) {
      const trend = rand() < 0.5 ? 'window-means' : 'slope';
      const options: RewardHackingMonitorOptions = {
        trend,
        baselinePoints: 2 + Math.floor(rand() * 3),
        recentPoints: 1 + Math.floor(rand() * 3),
        windowSteps: 5 + Math.floor(rand() * 20),
        minPoints: 2 + Math.floor(rand() * 3),
        consecutive: 1 + Math.floor(rand() * 3),
        ...(rand() < 0.3 ? { judgeRiseSpreadMultiple: rand() * 2 } : {}),
        ...(rand() < 0.2 ? { judgeRiseSpreadMultiple: 1, judgeScoreSpread: rand() * 0.05 } : {}),
      };
      const noise = createNormal(trial + 1);
      const hackFrom = rand() < 0.6 ? Math.floor(rand() * 40) : Number.POSITIVE_INFINITY;
      const obs: RewardHackingObservation[] = [];
      let step = Math.floor(rand() * 3);
      for (let i = 0; i < 60; i++) {
        step += 1 + Math.floor(rand() * 2);
        const late = Math.max(0, step - hackFrom);
        obs.push({
          step,
          ...(rand() < 0.8 ? { judgeReward: 0.5 + 0.01 * late + 0.02 * noise() } : {}),
          ...(rand() < 0.5 ? { agreement: 0.8 - 0.01 * late + 0.02 * noise() } : {}),
          ...(rand() < 0.3 ? { heldOutAccuracy: 0.3 - 0.006 * late + 0.01 * noise() } : {}),
        });
      }
      const cut = Math.floor(rand() * obs.length);
      const whole = createRewardHackingMonitor(options);
      const expected = obs.map((o) => whole.observe(o));
      const part = createRewardHackingMonitor(options);
      for (const o of obs.slice(0, cut)) part.observe(o);
      const saved = JSON.parse(JSON.stringify(part.snapshot()));
      const resumed = createRewardHackingMonitor(options, saved);
      assert.deepEqual(
        obs.slice(cut).map((o) => resumed.observe(o)),
        expected.slice(cut),
        `trial ${trial} (${JSON.stringify(options)}, cut ${cut})`,
      );
      assert.equal(resumed.firstAlarmStep, whole.firstAlarmStep);
      assert.equal(resumed.alarmReason, whole.alarmReason);
      assert.deepEqual(resumed.snapshot(), whole.snapshot());
      if (whole.firstAlarmStep !== null) {
        if (whole.firstAlarmStep < (obs[cut]?.step ?? Number.POSITIVE_INFINITY)) alarmsBeforeCut++;
        else alarmsAfterCut++;
      }
    }
    // The property covers resumes after a raised alarm and before one.
    assert.ok(alarmsBeforeCut >= 10 && alarmsAfterCut >= 10, `${alarmsBeforeCut} / ${alarmsAfterCut}`);
  });

  it('the snapshot is bounded by the window', () => {
    const m = createRewardHackingMonitor({ trend: 'slope', windowSteps: 10 });
    for (const o of planted(500)) m.observe(o);
    const s = m.snapshot();
    assert.equal(s.series.judgeReward.count, 500);
    assert.equal(s.series.judgeReward.recent.length, 10);
    assert.equal(s.series.judgeReward.start.length, REWARD_HACKING_MONITOR_DEFAULTS.baselinePoints);
  });

  it('refuses a snapshot of another shape or format', () => {
    const m = createRewardHackingMonitor({ baselinePoints: 3 });
    m.observe({ step: 1, judgeReward: 0.5 });
    const s = m.snapshot();
    assert.throws(
      () => createRewardHackingMonitor({ baselinePoints: 2 }, s),
      /baselinePoints = 3, but the config has 2/,
    );
    assert.throws(
      () => createRewardHackingMonitor({ baselinePoints: 3 }, { ...s, format: 'x' } as never),
      /format must be verdict\.reward-hacking-monitor\/1/,
    );
    assert.throws(
      () =>
        createRewardHackingMonitor(
          { baselinePoints: 3 },
          {
            ...s,
            series: { ...s.series, agreement: { count: 1, start: [Number.NaN], recent: [] } },
          },
        ),
      /series\.agreement/,
    );
  });

  it('validates its config (field and bound named) and its observations', () => {
    assert.deepEqual(
      resolveRewardHackingMonitorConfig({ consecutive: undefined }),
      REWARD_HACKING_MONITOR_DEFAULTS,
    );
    assert.throws(
      () => createRewardHackingMonitor({ heldOutDropThreshold: 1.5, consecutive: 0, trend: 'ema' as never }),
      (e: Error) =>
        e instanceof RangeError &&
        /heldOutDropThreshold must be in \[0, 1\].*got 1\.5/.test(e.message) &&
        /consecutive must be an integer >= 1, got 0/.test(e.message) &&
        /trend must be one of window-means, slope, got ema/.test(e.message),
    );
    assert.throws(() => createRewardHackingMonitor({ minPoints: 1 }), /minPoints must be an integer >= 2/);
    assert.throws(
      () => createRewardHackingMonitor({ windowSteps: 0 }),
      /windowSteps must be a finite number > 0/,
    );
    assert.throws(
      () => createRewardHackingMonitor({ baselinePoints: 1, judgeRiseSpreadMultiple: 2 }),
      /baselinePoints must be >= 2 to measure the judge's spread/,
    );
    const m = createRewardHackingMonitor();
    m.observe({ step: 5 });
    assert.throws(() => m.observe({ step: 5 }), /step must be finite and increase: got 5 after 5/);
    assert.throws(
      () => m.observe({ step: 6, heldOutAccuracy: Number.NaN }),
      /heldOutAccuracy at step 6 must be finite/,
    );
  });
});
