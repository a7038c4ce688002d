import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'verdict-start-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** `npm start -- --quick ...` as a user runs it (npm start → verdict start), in the repository root. */
function npmStart(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn('npm', ['start', '--silent', '--', ...args], {
      cwd: repoRoot,
      env: { ...process.env, VERDICT_CACHE_DIR: join(work, 'cache') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

interface Results {
  format: string;
  seeds: number[];
  arms: { id: string }[];
  runs: {
    armId: string;
    runId: string;
    status: string;
    steps: number;
    seconds: number;
    alarmStep: number | null;
    eval: { id: { suite: string; n: number; k: number; greedy: number }; ood: { suite: string; n: number } };
    curve: { step: number; rewardTotal?: number; kl?: number; heldOutAccuracy?: number }[];
  }[];
  summary: { armId: string; seeds: number }[];
  config: { steps: number; eval: { problems: number; samples: number }; shadow: { problems: number } };
}

const withoutTimings = (r: Results) => ({ ...r, runs: r.runs.map(({ seconds: _s, ...rest }) => rest) });

describe('npm start -- --quick (spawned)', () => {
  const out1 = join(work, 'run1');
  let first: Results;

  it('runs every arm through the services and writes the table, results.json and report.html', async () => {
    const r = await npmStart(['--quick', '--out-dir', out1]);
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    assert.match(r.stdout, /\(memory\)$/m, 'the default transport is in-process');
    // The table on stdout in the paper's shape, one row per arm.
    assert.match(r.stdout, /\| method +\| in-domain greedy +\| in-domain maj@2 +\| held-out tmpl greedy/);
    for (const label of [
      'SFT (no RL)',
      'RLVR (λ=1), GRPO',
      'VR + judge',
      'PPO',
      'judge only (λ=0), GRPO',
      'weak',
      'semi-supervised (λ=.5, μ=ρ=.25',
      'judge only (λ=0, μ=ρ=.5), GRPO',
    ]) {
      assert.ok(r.stdout.includes(label), `table row ${label}`);
    }
    // Progress on stderr: per step, per arm.
    assert.match(r.stderr, /\[rlvr-grpo-s0\] step 3\/3 reward/);
    assert.match(r.stderr, /\[vr-judge-ppo-s0\] completed: toy-id greedy/);
    for (const f of ['results.json', 'report.html', 'table.md']) assert.ok(existsSync(join(out1, f)), f);
    first = JSON.parse(readFileSync(join(out1, 'results.json'), 'utf8')) as Results;
    assert.equal(first.format, 'verdict.experiment.v1');
    assert.deepEqual(
      first.runs.map((x) => x.runId),
      [
        'sft-s0',
        'rlvr-grpo-s0',
        'vr-judge-grpo-s0',
        'vr-judge-ppo-s0',
        'judge-only-grpo-s0',
        'weak-judge-grpo-s0',
        'semi-supervised-grpo-s0',
        'judge-rerank-grpo-s0',
      ],
    );
    for (const run of first.runs) {
      assert.equal(run.eval.id.suite, 'toy-id');
      assert.equal(run.eval.ood.suite, 'toy-ood');
      assert.equal(run.eval.id.n, first.config.eval.problems);
      assert.equal(run.eval.id.k, first.config.eval.samples);
      assert.equal(run.curve[0]!.step, 0, 'the SFT start is probed');
      assert.equal(typeof run.curve[0]!.heldOutAccuracy, 'number');
      if (run.armId === 'sft') {
        assert.equal(run.status, 'baseline');
        assert.equal(run.curve.length, 1);
        continue;
      }
      assert.equal(run.status, 'completed', `${run.runId}: ${JSON.stringify(run)}`);
      assert.equal(run.steps, first.config.steps);
      assert.deepEqual(
        run.curve.map((p) => p.step),
        [0, 1, 2, 3],
      );
      for (const p of run.curve.slice(1)) {
        assert.equal(typeof p.rewardTotal, 'number');
        assert.equal(typeof p.kl, 'number');
      }
      // The learner's own metrics of the run exist next to it.
      assert.ok(existsSync(join(out1, 'runs', run.runId, 'metrics.jsonl')), run.runId);
    }
    const html = readFileSync(join(out1, 'report.html'), 'utf8');
    assert.match(html, /<table>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 10);
    assert.match(html, /Reward-hacking guard/);
  });

  it('a rerun with the same seed, over a real nats-server this time, reproduces every metric (timings aside)', async () => {
    assert.ok(first, 'the first run completed');
    const out2 = join(work, 'run2');
    const r = await npmStart(['--quick', '--out-dir', out2, '--transport', 'nats', '--json']);
    assert.equal(r.code, 0, r.stderr.slice(-4000));
    const doc = JSON.parse(r.stdout) as { budget: string; transport: string; files: { json: string } };
    assert.equal(doc.budget, 'quick');
    assert.equal(doc.transport, 'nats');
    const second = JSON.parse(readFileSync(doc.files.json, 'utf8')) as Results;
    assert.deepEqual(withoutTimings(second), withoutTimings(first));
  });

  it('bad input: an unknown arm exits 2 naming it', async () => {
    const r = await npmStart(['--quick', '--arms', 'rlvr-grpo,bogus', '--out-dir', join(work, 'bad')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown arm bogus/);
  });
});
