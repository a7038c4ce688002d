import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs the real `npx verdict` from the repository root, as users do. */
function verdict(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('npx', ['--no-install', 'verdict', ...args], { cwd: repoRoot, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('verdict toy prepare (spawned)', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-toy-cli-'));
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  for (const args of [
    ['--seed', '-1'],
    ['--seed', 'x'],
    ['--threads', '0'],
    ['--bogus'],
    ['--quick', '--quick'],
  ]) {
    it(`bad flags ${args.join(' ')} → exit 2 with one line naming the flag`, () => {
      const r = verdict(['toy', 'prepare', '--cache-dir', cacheDir, ...args]);
      assert.equal(r.code, 2, r.stderr);
      const flag = args[0]!;
      assert.match(r.stderr, new RegExp(flag));
      assert.equal(r.stdout, '');
    });
  }

  it('--quick --json prints one document; VERDICT_CACHE_DIR is the default cache; a rerun is cached', () => {
    const env = { ...process.env, VERDICT_CACHE_DIR: cacheDir };
    const first = verdict(['toy', 'prepare', '--quick', '--seed', '5', '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const doc = JSON.parse(first.stdout);
    assert.equal(doc.cached, false);
    for (const x of [
      doc.student.accuracy_id,
      doc.student.accuracy_ood,
      doc.judge.accuracy,
      doc.judge.auroc,
      doc.judge.synthetic.auroc,
    ]) {
      assert.equal(typeof x, 'number');
    }
    // NaN (JSON null) when the quick student answers nothing right.
    for (const key of ['correct_with_wrong_chain', 'chain_checker_auroc', 'judge_auroc_on_chains']) {
      assert.ok(
        key in doc.judge.chains &&
          (doc.judge.chains[key] === null || typeof doc.judge.chains[key] === 'number'),
      );
    }
    assert.equal(typeof doc.judge.chains.chain_correct, 'number');
    // DESIGN.md §6's names.
    for (const x of [
      doc.student.params,
      doc.student.greedy_in_domain,
      doc.student.greedy_held_out,
      doc.judge.params,
      doc.judge.solver_greedy_in_domain,
      doc.judge.auroc_answer,
      doc.judge.slip_probe_mean_p_yes,
      doc.student_samples_correct,
    ]) {
      assert.equal(typeof x, 'number');
    }
    for (const key of ['auroc_chain', 'auroc_claim']) assert.ok(key in doc.judge, key);
    for (const key of ['lucky_share_of_correct', 'chain_label_ceiling']) assert.ok(key in doc, key);
    assert.ok(doc.judge.slip_probe_samples >= 500);
    assert.equal(doc.judge.auroc_answer, doc.judge.auroc);
    assert.match(doc.judge.sha256, /^[0-9a-f]{64}$/);
    assert.ok(doc.paths.dir.startsWith(join(cacheDir, 'toy')));
    for (const p of [doc.paths.student, doc.paths.judge, doc.paths.manifest]) assert.ok(existsSync(p), p);
    assert.match(first.stderr, /student sft .* eta /);

    const second = verdict(['toy', 'prepare', '--quick', '--seed', '5', '--cache-dir', cacheDir]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /reusing cached recipe/);
    assert.match(second.stdout, /cached/);
    assert.match(second.stdout, /AUROC on student samples/);
    assert.match(second.stdout, /AUROC on \d+ held-out synthetic examples/);
    assert.match(second.stdout, /AUROC of a perfect chain checker/);
    assert.match(second.stdout, /AUROC against chain correctness/);
    assert.match(
      second.stdout,
      /mean P\(Yes\) on held-out synthetic examples: correct \d\.\d\d, arithmetic-slip /,
    );
  });
});
