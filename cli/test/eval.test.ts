import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { locateSharedDir } from '@verdict/models';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const stories = join(locateSharedDir(), 'fixtures', 'stories260k');

/** Runs the real `npx verdict` from the repository root, as users do. */
function verdict(args: string[]) {
  const r = spawnSync('npx', ['--no-install', 'verdict', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('verdict eval (spawned)', () => {
  it('gsm8k-test: oracle → 1.0, wrong → 0.0, strict and flexible; one JSON document', () => {
    const oracle = verdict(['eval', '--suite', 'gsm8k-test', '--model', 'oracle', '--json']);
    assert.equal(oracle.code, 0, oracle.stderr);
    const o = JSON.parse(oracle.stdout);
    assert.equal(o.suite, 'gsm8k-test');
    assert.equal(o.n, 1319);
    assert.equal(o.accuracy, 1);
    assert.equal(o.strict.accuracy, 1);
    assert.equal(o.flexible.accuracy, 1);
    assert.match(o.template_version, /^[0-9a-f]{12}$/);
    // Progress goes to stderr: done/total, rate and ETA.
    assert.match(oracle.stderr, /gsm8k-test 1319\/1319 \(100\.0%\) acc 100\.0% · [\d.]+ q\/s · ETA 0s/);
    const wrong = JSON.parse(verdict(['eval', '--suite', 'gsm8k-test', '--model', 'wrong', '--json']).stdout);
    assert.equal(wrong.accuracy, 0);
    assert.equal(wrong.flexible.accuracy, 0);
  });

  it('gsm-plus reports per perturbation type and maj@k from n ≥ k samples', () => {
    const r = verdict([
      'eval',
      '--suite',
      'gsm-plus',
      '--model',
      'oracle',
      '--samples',
      '3',
      '--k',
      '2',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.k, 2);
    assert.equal(o.samples, 3);
    assert.equal(o.maj_at_k, 1);
    assert.equal(Object.keys(o.per_category).length, 8);
    assert.ok('critical thinking' in o.per_category, Object.keys(o.per_category).join());
  });

  it('bad input exits 2 with one line naming the flag', () => {
    const cases: [string[], RegExp][] = [
      [['eval', '--suite', 'gsm9k', '--model', 'oracle'], /--suite must be one of .*gsm8k-test.*"gsm9k"/],
      [
        ['eval', '--suite', 'svamp', '--model', 'oracle', '--samples', '2', '--k', '3'],
        /--k must be <= --samples/,
      ],
      [['eval', '--suite', 'svamp', '--model', 'oracle', '--limit', '0'], /--limit must be an integer >= 1/],
      [['eval', '--suite', 'svamp'], /--model/],
      [['eval', '--suite', 'svamp', '--model', '/nonexistent/model'], /nonexistent/],
    ];
    for (const [args, pattern] of cases) {
      const r = verdict(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  });

  it('--help lists the flags', () => {
    const r = verdict(['eval', '--help']);
    assert.equal(r.code, 0);
    for (const f of [
      '--suite',
      '--model',
      '--limit',
      '--samples',
      '--k',
      '--temperature',
      '--seed',
      '--out',
    ]) {
      assert.ok(r.stdout.includes(f), f);
    }
  });

  it('a real model (stories260k) generates in batches; --out keeps history across runs', () => {
    const out = mkdtempSync(join(tmpdir(), 'verdict-eval-'));
    try {
      const args = ['eval', '--suite', 'toy-id', '--model', stories, '--limit', '5', '--batch-size', '2'];
      const first = verdict([...args, '--samples', '2', '--max-new-tokens', '24', '--out', out, '--json']);
      assert.equal(first.code, 0, first.stderr);
      const r = JSON.parse(first.stdout);
      assert.equal(r.n, 5);
      assert.equal(r.model, stories);
      assert.equal(r.max_new_tokens, 24);
      assert.ok(r.accuracy >= 0 && r.accuracy <= 1);
      assert.equal(r.k, 2);
      const doc = JSON.parse(readFileSync(r.report.json, 'utf8'));
      const items = doc.items['toy-id'];
      assert.equal(items.length, 5);
      assert.ok(
        items.every(
          (i: { greedy: string; samples: string[] }) => i.greedy.length > 0 && i.samples.length === 2,
        ),
      );
      // Greedy is deterministic: the same prompt gives the same text in a second run.
      const second = verdict([...args, '--max-new-tokens', '24', '--out', out, '--json']);
      assert.equal(second.code, 0, second.stderr);
      const doc2 = JSON.parse(readFileSync(JSON.parse(second.stdout).report.json, 'utf8'));
      assert.deepEqual(
        doc2.items['toy-id'].map((i: { greedy: string }) => i.greedy),
        items.map((i: { greedy: string }) => i.greedy),
      );
      const history = readFileSync(join(out, 'history.jsonl'), 'utf8').trim().split('\n');
      assert.equal(history.length, 2);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      assert.match(html, /Greedy accuracy \(strict\) over runs/);
      assert.equal(html.match(/<circle /g)?.length, 2);
      assert.ok(existsSync(r.report.html));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
