import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { locateSharedDir } from '@verdict/models';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedDatasets = join(locateSharedDir(), 'datasets');

/** Async spawn: the mirror below is served by this process, so it must keep its event loop. */
function verdict(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'npx',
      ['--no-install', 'verdict', ...args],
      { cwd: repoRoot, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe('verdict data pull (spawned)', () => {
  let server: Server;
  let mirror = '';
  const requests: string[] = [];
  before(async () => {
    // A mirror of ../shared/datasets, plus one corrupted file to prove checksums are enforced.
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push(path);
      if (path === '/corrupt/svamp/SVAMP.json') {
        res.end('[]');
        return;
      }
      const file = join(sharedDatasets, normalize(path));
      if (!file.startsWith(sharedDatasets) || !existsSync(file)) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('--help lists the flags', async () => {
    const r = await verdict(['data', 'pull', '--help']);
    assert.equal(r.code, 0);
    for (const f of ['--dir', '--only', '--mirror', '--optional']) assert.ok(r.stdout.includes(f), f);
  });

  it('bad input exits 2 with one line', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['data', 'pull', '--only', 'gsm9k'],
        /--only must name a dataset \(gsm8k, svamp, gsm-plus, gsm-hard, mawps\)/,
      ],
      [['data', 'pull', '--mirror', 'ftp://example.org'], /--mirror must be an http\(s\) URL/],
      [['data', 'pull', '--mirror', 'not a url'], /--mirror must be an absolute URL/],
      [['data', 'pull', '--bogus'], /unknown flag --bogus/],
    ];
    for (const [args, pattern] of cases) {
      const r = await verdict(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  });

  it('pulls one dataset from a mirror with sha256 checks, then finds it cached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-pull-'));
    try {
      const first = await verdict([
        'data',
        'pull',
        '--only',
        'gsm8k',
        '--mirror',
        mirror,
        '--dir',
        dir,
        '--json',
      ]);
      assert.equal(first.code, 0, first.stderr);
      const r = JSON.parse(first.stdout);
      assert.deepEqual(r.files.map((f: { file: string }) => f.file).sort(), [
        'gsm8k/LICENSE',
        'gsm8k/test.jsonl',
        'gsm8k/test_socratic.jsonl',
        'gsm8k/train.jsonl',
      ]);
      assert.equal(r.downloaded, 4);
      assert.ok(r.files.every((f: { verified: string }) => f.verified === 'sha256'));
      assert.deepEqual(
        readFileSync(join(dir, 'gsm8k/test.jsonl')),
        readFileSync(join(sharedDatasets, 'gsm8k/test.jsonl')),
      );
      assert.match(first.stderr, /gsm8k\/test\.jsonl: downloaded \(749738 bytes, sha256\)/);
      const before = requests.length;
      const second = await verdict([
        'data',
        'pull',
        '--only',
        'gsm8k/test.jsonl',
        '--mirror',
        mirror,
        '--dir',
        dir,
        '--json',
      ]);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(JSON.parse(second.stdout).cached, 1);
      assert.equal(requests.length, before, 'a valid cached file is not fetched again');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a checksum mismatch fails (exit 1) and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-pull-'));
    try {
      const r = await verdict([
        'data',
        'pull',
        '--only',
        'svamp/SVAMP.json',
        '--mirror',
        `${mirror}/corrupt`,
        '--dir',
        dir,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /svamp\/SVAMP\.json/);
      assert.equal(existsSync(join(dir, 'svamp/SVAMP.json')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
