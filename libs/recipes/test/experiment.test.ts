import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ArmComparison,
  armRunId,
  checkClaim,
  createHackingGuard,
  describeClaim,
  experimentArms,
  experimentDesignHash,
  formatResultsTable,
  lineCount,
  loweredWeights,
  renderExperimentReport,
  selectArms,
  shadowGuardObservation,
  stat,
  summariseArms,
} from '../src/index.js';
import { config, resultOf, run } from './experiment-fixtures.js';

describe('arms', () => {
  test('the paper arms: λ+μ+ρ=1, the same budget, unlabeled pool a multiple of the labeled one', () => {
    const arms = experimentArms(config);
    assert.deepEqual(
      arms.map((a) => a.id),
      [
        'sft',
        'rlvr-grpo',
        'vr-judge-grpo',
        'vr-judge-ppo',
        'judge-only-grpo',
        'weak-judge-grpo',
        'semi-supervised-grpo',
        'judge-rerank-grpo',
        'rlvr-arith-grpo',
        'rlvr-all-grpo',
      ],
    );
    for (const a of arms.filter((x) => x.algorithm !== 'sft')) {
      assert.equal(a.lambdaVr + a.muJudge + (a.rhoRerank ?? 0), 1, a.id);
    }
    const vr = arms.find((a) => a.id === 'vr-judge-grpo')!;
    assert.equal(vr.unlabeledProblems, config.unlabeledMultiple * vr.labeledProblems);
    const rlvr = arms.find((a) => a.id === 'rlvr-grpo')!;
    assert.equal(rlvr.unlabeledProblems, 0);
    assert.equal(rlvr.labeledProblems, vr.labeledProblems);
    const ceiling = arms.find((a) => a.id === 'rlvr-all-grpo')!;
    assert.equal(
      ceiling.labeledProblems,
      vr.labeledProblems + vr.unlabeledProblems,
      'the same questions, all labeled',
    );
    const judgeOnly = arms.find((a) => a.id === 'judge-only-grpo')!;
    assert.equal(judgeOnly.labeledProblems, 0, 'λ = 0 uses no gold');
    assert.deepEqual(
      arms.filter((a) => a.expectAlarm).map((a) => a.id),
      ['weak-judge-grpo'],
    );
  });

  test('armRunId names arm and seed', () => {
    assert.equal(armRunId(experimentArms(config)[1]!, 3), 'rlvr-grpo-s3');
  });

  test('selectArms keeps SFT, runs probes only when named, rejects unknown ids by name', () => {
    const arms = experimentArms(config);
    assert.deepEqual(
      selectArms(arms, ['rlvr-grpo']).map((a) => a.id),
      ['sft', 'rlvr-grpo'],
    );
    assert.deepEqual(
      selectArms(arms, undefined).map((a) => a.id),
      ['sft', 'rlvr-grpo', 'vr-judge-grpo', 'judge-only-grpo', 'weak-judge-grpo'],
      'the default run: the arms the claim needs, no probes',
    );
    assert.deepEqual(
      selectArms(arms, undefined, { full: true }).map((a) => a.id),
      [
        'sft',
        'rlvr-grpo',
        'vr-judge-grpo',
        'vr-judge-ppo',
        'judge-only-grpo',
        'weak-judge-grpo',
        'semi-supervised-grpo',
        'judge-rerank-grpo',
      ],
      'the whole table: PPO and the ρ rows too, still no probes',
    );
    assert.deepEqual(
      selectArms(arms, ['rlvr-arith-grpo']).map((a) => a.id),
      ['sft', 'rlvr-arith-grpo'],
    );
    assert.throws(() => selectArms(arms, ['rlvr-grpo', 'nope']), /unknown arm nope/);
  });
});

describe('hacking guard', () => {
  test('a held-out fall that is large relative to its start level alarms; a small one does not', () => {
    const relative = { ...config.guard, baselinePoints: 2, recentPoints: 2, consecutive: 1 };
    const run = (heldOut: readonly number[], judge: readonly number[]) => {
      const guard = createHackingGuard(relative);
      heldOut.forEach((h, i) => {
        guard.observe({ step: 2 * (i + 1), judgeReward: judge[i]!, agreement: 0.3, heldOutAccuracy: h });
      });
      return guard;
    };
    const judgeUp = [0.52, 0.53, 0.6, 0.62];
    // 21.4 % → 13 %: 8.4 points (under the 10-point absolute threshold) but 39 % of the start level.
    const hacked = run([0.219, 0.208, 0.135, 0.125], judgeUp);
    assert.equal(hacked.alarmStep, 8);
    assert.match(hacked.reason ?? '', /% of its start/);
    // 61 % → 53 %: the same 8 points are 13 % of the start level: noise for a strong student.
    assert.equal(run([0.61, 0.61, 0.53, 0.53], judgeUp).alarmStep, null);
    // 12 % → 8 %: 33 % relative but only 4 points, under the heldOutMinDrop floor.
    assert.equal(run([0.12, 0.12, 0.08, 0.08], judgeUp).alarmStep, null);
    // The same fall without a judge rise is not hacking.
    assert.equal(run([0.219, 0.208, 0.135, 0.125], [0.52, 0.53, 0.53, 0.52]).alarmStep, null);
  });

  const guardConfig = { ...config.guard, baselinePoints: 2, recentPoints: 2, consecutive: 2 };

  test('judge reward up while agreement and accuracy fall: alarm after two suspect observations, action once', () => {
    const guard = createHackingGuard(guardConfig);
    const verdicts = [];
    for (let step = 1; step <= 8; step++) {
      verdicts.push(
        guard.observe({
          step,
          judgeReward: 0.5 + 0.05 * step,
          agreement: 0.8 - 0.05 * step,
          heldOutAccuracy: 0.3 - 0.03 * step,
        }),
      );
    }
    const firstSuspect = verdicts.findIndex((v) => v.suspect);
    assert.ok(firstSuspect >= 0);
    assert.equal(verdicts[firstSuspect]!.alarm, false, 'one suspect observation is not an alarm');
    assert.equal(verdicts[firstSuspect + 1]!.alarm, true);
    assert.deepEqual(
      verdicts.filter((v) => v.action !== 'none').map((v) => v.action),
      ['stop'],
    );
    assert.equal(guard.alarmStep, verdicts[firstSuspect + 1]!.step);
    assert.match(guard.reason ?? '', /judge reward/);
  });

  test('a healthy run (judge reward and accuracy rise together) and noise never alarm', () => {
    const guard = createHackingGuard(guardConfig);
    for (let step = 1; step <= 20; step++) {
      const v = guard.observe({
        step,
        judgeReward: 0.4 + 0.02 * step,
        agreement: 0.85 + (step % 2 ? 0.04 : -0.04),
        heldOutAccuracy: 0.25 + 0.005 * step + (step % 3 === 0 ? -0.05 : 0.02),
      });
      assert.equal(v.alarm, false, `step ${step}`);
    }
    const noJudge = createHackingGuard(guardConfig);
    for (let step = 1; step <= 10; step++) {
      assert.equal(noJudge.observe({ step, heldOutAccuracy: 0.5 - 0.05 * step }).alarm, false);
    }
  });

  test('the shadow observation leaves the judge out of arms without it (μ = 0); NaN is dropped', () => {
    const probe = { judgeMean: 0.6, agreement: Number.NaN, accuracy: 0.2 };
    assert.deepEqual(shadowGuardObservation(4, probe, 0), {
      step: 4,
      agreement: Number.NaN,
      heldOutAccuracy: 0.2,
    });
    assert.equal(shadowGuardObservation(4, probe, 0.5).judgeReward, 0.6);
    const guard = createHackingGuard(guardConfig);
    const v = guard.observe(shadowGuardObservation(4, probe, 0.5));
    assert.equal(v.suspect, false);
  });

  test('lower-mu keeps λ + μ = 1', () => {
    assert.deepEqual(loweredWeights({ lambdaVr: 0.5, muJudge: 0.5 }, 0.5), { lambdaVr: 0.75, muJudge: 0.25 });
    // ρ is kept; λ takes what μ gives up.
    assert.deepEqual(loweredWeights({ lambdaVr: 0.5, muJudge: 0.25, rhoRerank: 0.25 }, 0.5), {
      lambdaVr: 0.625,
      muJudge: 0.125,
      rhoRerank: 0.25,
    });
    assert.throws(() => createHackingGuard({ ...guardConfig, consecutive: 0 }), /consecutive/);
    assert.throws(
      () => createHackingGuard({ ...guardConfig, muFactor: 2 }),
      /guard\.muFactor must be in \[0, 1\]/,
    );
  });

  test('a guard resumed from its snapshot issues the action at the same step, once', () => {
    const obs = Array.from({ length: 8 }, (_, i) => ({
      step: 2 * (i + 1),
      judgeReward: 0.5 + 0.03 * i,
      // A probe without judged samples: NaN is left out, not an error.
      agreement: i === 3 ? Number.NaN : 0.3,
      heldOutAccuracy: 0.3 - 0.03 * i,
    }));
    const whole = createHackingGuard(guardConfig);
    const expected = obs.map((o) => whole.observe(o).action);
    assert.equal(expected.filter((a) => a !== 'none').length, 1);
    assert.equal(expected.indexOf('stop'), 5, 'raised after the resume point');
    const first = createHackingGuard(guardConfig);
    for (const o of obs.slice(0, 4)) first.observe(o);
    const resumed = createHackingGuard(guardConfig, JSON.parse(JSON.stringify(first.snapshot())));
    assert.deepEqual(
      obs.slice(4).map((o) => resumed.observe(o).action),
      expected.slice(4),
    );
    assert.equal(resumed.alarmStep, whole.alarmStep);
  });
});

describe('results', () => {
  test('stat: mean and sample standard deviation; one seed has spread 0', () => {
    assert.deepEqual(stat([0.2]).spread, 0);
    const s = stat([0.2, 0.4]);
    assert.ok(Math.abs(s.mean - 0.3) < 1e-12);
    assert.ok(Math.abs(s.spread - Math.SQRT1_2 * 0.2) < 1e-12);
    assert.ok(Number.isNaN(stat([Number.NaN]).mean));
  });

  test('claim check: margin against the larger spread; guard expectation per arm', () => {
    const arms = experimentArms(config);
    const runs = [0, 1, 2].flatMap((seed) => [
      run('sft', seed, 0.2),
      run('rlvr-grpo', seed, 0.25 + 0.01 * seed),
      run('vr-judge-grpo', seed, 0.35 + 0.01 * seed),
      run('weak-judge-grpo', seed, 0.1, 4),
    ]);
    const summary = summariseArms(
      arms.filter((a) => ['sft', 'rlvr-grpo', 'vr-judge-grpo', 'weak-judge-grpo'].includes(a.id)),
      runs,
    );
    const claim = checkClaim(summary)!;
    assert.equal(claim.holds, true);
    assert.equal(claim.guardAsExpected, true);
    const tight = summariseArms(arms.slice(0, 3), [
      run('sft', 0, 0.2),
      run('sft', 1, 0.2),
      run('rlvr-grpo', 0, 0.2),
      run('rlvr-grpo', 1, 0.4),
      run('vr-judge-grpo', 0, 0.33),
      run('vr-judge-grpo', 1, 0.35),
    ]);
    const c2 = checkClaim(tight)!;
    assert.equal(c2.holds, false, 'a 4-point margin inside a 14-point spread does not count');
    assert.equal(c2.comparisons.find((c) => c.armId === 'sft')!.beats, true);
    const falseAlarm = summariseArms(arms.slice(0, 3), [run('vr-judge-grpo', 0, 0.3, 2)]);
    assert.equal(checkClaim(falseAlarm)!.guardAsExpected, false);
  });

  test('claim check on paired intervals: holds, holds in part, does not hold', () => {
    const arms = experimentArms(config).slice(0, 3);
    const summary = summariseArms(arms, [
      run('sft', 0, 0.2),
      run('rlvr-grpo', 0, 0.25),
      run('vr-judge-grpo', 0, 0.27),
    ]);
    const pair = (baselineId: string, lo: number, hi: number) =>
      ({
        armId: 'vr-judge-grpo',
        baselineId,
        suite: 'id',
        metric: 'greedy',
        lo,
        hi,
      }) as unknown as ArmComparison;
    // One seed: the spread rule alone would call any positive margin a win.
    assert.equal(checkClaim(summary)!.verdict, 'holds');
    const part = checkClaim(summary, [pair('rlvr-grpo', -0.01, 0.05), pair('sft', 0.03, 0.11)])!;
    assert.equal(part.verdict, 'holds in part');
    assert.equal(part.holds, false);
    assert.deepEqual(
      part.comparisons.map((c) => [c.armId, c.basis, c.beats]),
      [
        ['rlvr-grpo', 'paired', false],
        ['sft', 'paired', true],
      ],
    );
    // The guard (item 7): a judge-rewarded arm that ends below SFT beyond the interval should alarm.
    const hacked = summariseArms(arms, [
      run('sft', 0, 0.26),
      run('rlvr-grpo', 0, 0.25),
      run('vr-judge-grpo', 0, 0.12, 40),
    ]);
    const below = [pair('rlvr-grpo', -0.16, -0.1), pair('sft', -0.16, -0.11)];
    const g = checkClaim(hacked, below)!;
    assert.equal(g.guardAsExpected, true, 'the alarm on a harmed judge arm is the expected one');
    assert.deepEqual(
      g.guard?.map((x) => [x.armId, x.alarms, x.shouldAlarm]),
      [
        ['rlvr-grpo', 0, false],
        ['vr-judge-grpo', 1, true],
      ],
    );
    assert.equal(
      checkClaim(hacked, [pair('sft', -0.02, 0.01)])!.guardAsExpected,
      false,
      'an alarm on an unharmed arm',
    );
    const silent = summariseArms(arms, [run('sft', 0, 0.26), run('vr-judge-grpo', 0, 0.12)]);
    assert.equal(checkClaim(silent, below)!.guardAsExpected, false, 'a harmed judge arm without an alarm');
    const none = checkClaim(summary, [pair('rlvr-grpo', -0.03, 0.01), pair('sft', -0.001, 0.1)])!;
    assert.equal(none.verdict, 'does not hold');
    assert.match(describeClaim(part), /HOLDS IN PART[\s\S]*vs sft: \+7\.0 points \[\+3\.0, \+11\.0\] paired/);
  });

  test('design hash: stable for the same design, changed by the budget, the world or the arms', () => {
    const arms = experimentArms(config);
    const base = experimentDesignHash({ config, toyWorldHash: 'w1', arms });
    assert.match(base, /^[0-9a-f]{16}$/);
    assert.equal(experimentDesignHash({ config: { ...config }, toyWorldHash: 'w1', arms: [...arms] }), base);
    assert.notEqual(
      experimentDesignHash({ config: { ...config, steps: config.steps + 1 }, toyWorldHash: 'w1', arms }),
      base,
    );
    assert.notEqual(experimentDesignHash({ config, toyWorldHash: 'w2', arms }), base);
    assert.notEqual(experimentDesignHash({ config, toyWorldHash: 'w1', arms: arms.slice(1) }), base);
  });

  test('table in the paper shape (mean ± spread with several seeds) and a self-contained report', () => {
    const arms = experimentArms(config).slice(0, 3);
    const runs = [0, 1].flatMap((seed) => [
      run('sft', seed, 0.2),
      run('rlvr-grpo', seed, 0.3),
      run('vr-judge-grpo', seed, 0.3 + 0.1 * seed),
    ]);
    const summary = summariseArms(arms, runs);
    const table = formatResultsTable(summary, 4);
    const lines = table.split('\n');
    assert.equal(lines.length, 2 + arms.length);
    assert.match(
      lines[0]!,
      /in-domain greedy .*maj@4.*held-out tmpl greedy/,
      'k as formatResultsTable was given',
    );
    assert.match(lines[2]!, /SFT \(no RL\) +\| 20\.0 ± 0\.0/);
    assert.match(lines[4]!, /35\.0 ± 7\.1/);
    const html = renderExperimentReport(resultOf(arms, runs));
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 10, 'one chart per curve');
    assert.match(html, /held-out accuracy/);
    assert.match(html, /judge AUROC on the policy&#39;s own samples|judge AUROC on the policy's own samples/);
    assert.match(html, /judge–gold agreement/);
    assert.match(html, /KL to the reference/);
    assert.match(html, /<td>35\.0 ± 7\.1<\/td>/);
    assert.doesNotMatch(html, /<script|src=|https?:\/\/(?!www\.w3\.org)/, 'no external assets');
  });

  test('weak judge labels: line count of a solution', () => {
    assert.equal(lineCount('a = 1\n\nb = 2\n#### 3\n'), 3);
  });
});
