import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mcnemarTest, pairedTTest, wilsonInterval } from '@verdict/data';
import {
  COMPARISON_METHOD,
  compareArms,
  compareSeenSlice,
  experimentArms,
  formatExperimentTables,
  renderExperimentReport,
  summariseArms,
} from '../src/index.js';
import { config, outcomes, resultOf, run, scoredRun } from './experiment-fixtures.js';

describe('paired comparisons', () => {
  const arms = experimentArms(config).slice(0, 3); // SFT, RLVR, VR + judge (GRPO)
  const runs = [
    scoredRun('sft', 0, outcomes(50)),
    scoredRun('rlvr-grpo', 0, outcomes(60, 5)),
    scoredRun('vr-judge-grpo', 0, outcomes(80, 10)),
  ];

  test('every arm − RLVR and − SFT per suite and metric; greedy by McNemar, fractions by paired t', () => {
    const comparisons = compareArms(arms, runs, { resamples: 2000 });
    assert.deepEqual(
      [...new Set(comparisons.map((c) => `${c.armId}−${c.baselineId}`))],
      ['sft−rlvr-grpo', 'vr-judge-grpo−rlvr-grpo', 'rlvr-grpo−sft', 'vr-judge-grpo−sft'],
    );
    assert.equal(comparisons.length, 4 * 2 * 3, '4 pairs × 2 suites × 3 metrics');
    const g = comparisons.find(
      (c) =>
        c.armId === 'vr-judge-grpo' && c.baselineId === 'sft' && c.suite === 'id' && c.metric === 'greedy',
    )!;
    // VR + judge right on 10..89, SFT on 0..49: 40 only-A, 10 only-B.
    assert.equal(g.diff, 0.15);
    assert.equal(g.test, 'mcnemar-mid-p');
    assert.deepEqual(g.mcnemar, mcnemarTest(outcomes(80, 10), outcomes(50)));
    assert.equal(g.mcnemar!.onlyA, 40);
    assert.ok(g.lo > 0.08 && g.hi < 0.22 && g.lo < g.diff && g.diff < g.hi, `${g.lo} ${g.hi}`);
    const m = comparisons.find(
      (c) => c.armId === 'vr-judge-grpo' && c.baselineId === 'sft' && c.metric === 'meanAtK',
    )!;
    assert.equal(m.test, 'paired-t');
    assert.equal(m.p, pairedTTest(runs[2]!.eval.id.problems!.meanAtK, runs[0]!.eval.id.problems!.meanAtK).p);
    // Deterministic (seeded by the pair's names), and the cache returns the same comparisons.
    const cache = new Map();
    assert.deepEqual(compareArms(arms, runs, { resamples: 2000, cache }), comparisons);
    assert.deepEqual(compareArms(arms, runs, { resamples: 2000, cache }), comparisons);
    assert.equal(cache.size, comparisons.length);
  });

  test('Wilson intervals per arm; seeds pooled per problem; unpaired problem lists are not compared', () => {
    const summary = summariseArms(arms, runs);
    const sft = summary[0]!.intervals!.id.greedy!;
    assert.equal(sft.method, 'wilson');
    assert.deepEqual([sft.lo, sft.hi], [wilsonInterval(50, 200).lo, wilsonInterval(50, 200).hi]);
    const twoSeeds = [...runs, scoredRun('sft', 1, outcomes(40)), scoredRun('rlvr-grpo', 1, outcomes(70, 5))];
    const pooled = compareArms(arms.slice(0, 2), twoSeeds, { resamples: 500 }).find(
      (c) => c.baselineId === 'sft' && c.metric === 'greedy' && c.suite === 'id',
    )!;
    assert.deepEqual(pooled.seeds, [0, 1]);
    assert.equal(pooled.test, 'paired-t', 'seed means are fractions');
    assert.ok(Math.abs(pooled.diff - (65 - 45) / 200) < 1e-12);
    const shuffled = [
      runs[0]!,
      scoredRun(
        'rlvr-grpo',
        0,
        outcomes(60),
        outcomes(60).map((_, i) => `q${i}`),
      ),
    ];
    assert.deepEqual(compareArms(arms.slice(0, 2), shuffled, { resamples: 500 }), []);
    const legacy = compareArms(arms, [run('sft', 0, 0.2), run('rlvr-grpo', 0, 0.3)]);
    assert.deepEqual(legacy, [], 'results without per-problem scores compare nothing');
  });

  test('seen slice: each RL arm − SFT on its training questions beside fresh ones, paired; printed and in the report', () => {
    const seen = (right: number) => ({ n: 200, greedy: right / 200, problems: outcomes(right) });
    const withSeen = [
      { ...runs[0]!, seen: seen(50) },
      { ...runs[1]!, seen: seen(90) },
      runs[2]!, // no seen slice (an older result): not compared
    ];
    const [c, ...rest] = compareSeenSlice(arms, withSeen, compareArms(arms, withSeen, { resamples: 500 }));
    assert.equal(rest.length, 0);
    assert.equal(c!.armId, 'rlvr-grpo');
    assert.deepEqual(c!.seeds, [0]);
    assert.equal(c!.seen.diff, 0.2, 'right on 0..89 against 0..49');
    assert.equal(c!.seen.mcnemar!.onlyA, 40);
    assert.equal(c!.seen.mcnemar!.onlyB, 0);
    assert.ok(c!.seen.lo > 0.1, `${c!.seen.lo}`);
    assert.ok(Math.abs(c!.fresh!.diff - 0.05) < 1e-12, 'fresh: the in-domain suite, 5..64 against 0..49');
    const result = resultOf(arms, withSeen, { seenComparisons: [c!] });
    assert.match(
      formatExperimentTables(result),
      /\| RLVR \(λ=1\), GRPO +\| \+20\.0 \[\+[0-9.]+, \+[0-9.]+\] p<0\.001 \| \+5\.0 /,
    );
    assert.match(renderExperimentReport(result), /Seen in training against fresh/);
    assert.deepEqual(
      compareSeenSlice(arms, runs, compareArms(arms, runs, { resamples: 500 })),
      [],
      'runs without a seen slice compare nothing',
    );
  });

  test('console table and report show the intervals and the paired table', () => {
    const result = resultOf(arms, runs, {
      comparisons: compareArms(arms, runs, { resamples: 500 }),
      statistics: COMPARISON_METHOD,
    });
    const text = formatExperimentTables(result);
    assert.match(text, /\| SFT \(no RL\) +\| 25\.0 \[19\.5, 31\.4\]/);
    assert.match(
      text,
      new RegExp(
        `\\| paired difference \\(points\\) +\\| in-domain greedy +\\| in-domain mean@${config.eval.samples} +\\| in-domain maj@${config.eval.samples} `,
      ),
    );
    assert.match(text, /\| VR \+ judge [^|]+ − RLVR +\| \+10\.0 \[\+[0-9.]+, \+[0-9.]+\] p<0\.001/);
    assert.match(text, /\| RLVR \(λ=1\), GRPO − SFT +\| \+5\.0 /);
    const html = renderExperimentReport(result);
    assert.match(html, /Every arm against RLVR and SFT/);
    assert.match(html, /<td>SFT \(no RL\) − RLVR<\/td><td>−5\.0 \[/);
  });
});
