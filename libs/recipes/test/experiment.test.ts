import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ArmSeedResult,
  armRunConfig,
  checkClaim,
  createHackingGuard,
  experimentArms,
  experimentConfig,
  formatResultsTable,
  lineCount,
  loweredWeights,
  renderExperimentReport,
  type SuiteScore,
  selectArms,
  stat,
  summariseArms,
} from '../src/index.js';

const config = experimentConfig('default');

describe('arms', () => {
  test('the paper arms: λ+μ=1, the same budget, unlabeled pool a multiple of the labeled one', () => {
    const arms = experimentArms(config);
    assert.deepEqual(
      arms.map((a) => a.id),
      ['sft', 'rlvr-grpo', 'vr-judge-grpo', 'vr-judge-ppo', 'judge-only-grpo', 'weak-judge-grpo'],
    );
    for (const a of arms.filter((x) => x.algorithm !== 'sft')) {
      assert.equal(a.lambdaVr + a.muJudge, 1, a.id);
    }
    const vr = arms.find((a) => a.id === 'vr-judge-grpo')!;
    assert.equal(vr.unlabeledProblems, config.unlabeledMultiple * vr.labeledProblems);
    const rlvr = arms.find((a) => a.id === 'rlvr-grpo')!;
    assert.equal(rlvr.unlabeledProblems, 0);
    assert.equal(rlvr.labeledProblems, vr.labeledProblems);
    const judgeOnly = arms.find((a) => a.id === 'judge-only-grpo')!;
    assert.equal(judgeOnly.labeledProblems, 0, 'λ = 0 uses no gold');
    assert.deepEqual(
      arms.filter((a) => a.expectAlarm).map((a) => a.id),
      ['weak-judge-grpo'],
    );
  });

  test('selectArms keeps SFT and rejects unknown ids by name', () => {
    const arms = experimentArms(config);
    assert.deepEqual(
      selectArms(arms, ['rlvr-grpo']).map((a) => a.id),
      ['sft', 'rlvr-grpo'],
    );
    assert.throws(() => selectArms(arms, ['rlvr-grpo', 'nope']), /unknown arm nope/);
  });

  test('run configs: same budget and seeds for every RL arm; judge-only marks its data unlabeled', () => {
    const arms = experimentArms(config).filter((a) => a.algorithm !== 'sft');
    const runs = arms.map((a) => armRunConfig(a, config, { seed: 3, studentDir: '/s', judgeModelId: 'j' }));
    for (const r of runs) {
      assert.equal(r.maxSteps, config.steps);
      assert.equal(r.promptsPerStep, config.promptsPerStep);
      assert.equal(r.groupSize, config.groupSize);
      assert.equal(r.seed, 3);
      assert.equal(r.data.seed, 3);
      assert.equal((r.promptsPerStep * r.groupSize) % r.minibatchSize, 0);
      assert.equal(r.minibatchSize % r.microBatchSize, 0);
    }
    const byId = new Map(arms.map((a, i) => [a.id, runs[i]!]));
    assert.equal(byId.get('vr-judge-ppo')!.algorithm, 'ppo');
    assert.equal(byId.get('vr-judge-ppo')!.epochsPerStep, config.ppoEpochs);
    assert.deepEqual(byId.get('vr-judge-grpo')!.data.labeledRatio, { labeled: 64, unlabeled: 256 });
    assert.equal(byId.get('vr-judge-grpo')!.data.sources[0]!.limit, 320);
    assert.equal(byId.get('judge-only-grpo')!.data.sources[0]!.labeled, false);
    assert.deepEqual(byId.get('rlvr-grpo')!.reward, { lambdaVr: 1, muJudge: 0, rhoRerank: 0 });
    assert.equal(byId.get('rlvr-grpo')!.runId, 'rlvr-grpo-s3');
    assert.throws(() =>
      armRunConfig(experimentArms(config)[0]!, config, { seed: 0, studentDir: '', judgeModelId: '' }),
    );
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

  test('lower-mu keeps λ + μ = 1', () => {
    assert.deepEqual(loweredWeights({ lambdaVr: 0.5, muJudge: 0.5 }, 0.5), { lambdaVr: 0.75, muJudge: 0.25 });
    assert.throws(() => createHackingGuard({ ...guardConfig, consecutive: 0 }), /consecutive/);
  });
});

function score(suite: string, greedy: number, majAtK: number): SuiteScore {
  return { suite, n: 100, greedy, majAtK, k: 4, policyVersion: 1 };
}

function run(armId: string, seed: number, id: number, alarmStep: number | null = null): ArmSeedResult {
  return {
    armId,
    seed,
    runId: `${armId}-s${seed}`,
    status: armId === 'sft' ? 'baseline' : 'completed',
    steps: 3,
    alarmStep,
    guardEvents: alarmStep === null ? [] : [{ step: alarmStep, action: 'stop', reason: 'judge reward up' }],
    eval: { id: score('toy-id', id, id + 0.05), ood: score('toy-ood', id / 2, id / 2) },
    curve: [
      { step: 0, heldOutAccuracy: 0.2 },
      { step: 1, rewardTotal: 0.4, kl: 0.001, heldOutAccuracy: 0.22, shadowAgreement: 0.8 },
      { step: 2, rewardTotal: 0.5, kl: 0.002, rewardJudge: 0.6 },
    ],
    seconds: 1,
  };
}

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
    assert.match(lines[0]!, /in-domain greedy .*maj@4.*held-out tmpl greedy/);
    assert.match(lines[2]!, /SFT \(no RL\) +\| 20\.0 ± 0\.0/);
    assert.match(lines[4]!, /35\.0 ± 7\.1/);
    const html = renderExperimentReport({
      format: 'verdict.experiment.v1',
      config,
      seeds: [0, 1],
      toyWorld: { hash: 'h', budget: 'full', studentAccuracyId: 0.2, judgeAuroc: 0.95 },
      arms,
      runs,
      summary,
      claim: checkClaim(summary),
    });
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 9, 'one chart per curve');
    assert.match(html, /held-out accuracy/);
    assert.match(html, /judge–gold agreement/);
    assert.match(html, /KL to the reference/);
    assert.match(html, /<td>35\.0 ± 7\.1<\/td>/);
    assert.doesNotMatch(html, /<script|src=|https?:\/\/(?!www\.w3\.org)/, 'no external assets');
  });

  test('weak judge labels: line count of a solution', () => {
    assert.equal(lineCount('a = 1\n\nb = 2\n#### 3\n'), 3);
  });
});
