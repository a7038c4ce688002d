import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DATASET_SOURCES, type DatasetSourceFile } from './dataset-manifest.js';
import { DatasetPullError, pullDatasets } from './pull-datasets.js';

const GOOD = '{"question": "q", "answer": "#### 1"}\n';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
let server: Server;
let base: string;
let requests = 0;

before(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/good.jsonl' || req.url === '/tampered.jsonl') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(req.url === '/good.jsonl' ? GOOD : GOOD.replace('1', '2'));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const source = (file: string, path: string, extra: Partial<DatasetSourceFile> = {}): DatasetSourceFile => ({
  file,
  url: `${base}${path}`,
  sha256: sha(GOOD),
  bytes: GOOD.length,
  ...extra,
});

test('a good file is downloaded, verified and then found in the cache', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-pull-'));
  const sources = [source('gsm8k/test.jsonl', '/good.jsonl')];
  const first = await pullDatasets({ sources, cacheDir });
  assert.equal(first[0]?.status, 'downloaded');
  assert.equal(first[0]?.verified, 'sha256');
  assert.equal(readFileSync(join(cacheDir, 'gsm8k', 'test.jsonl'), 'utf8'), GOOD);
  assert.deepEqual(readdirSync(join(cacheDir, 'gsm8k')), ['test.jsonl']);
  const before = requests;
  const second = await pullDatasets({ sources, cacheDir });
  assert.equal(second[0]?.status, 'cached');
  assert.equal(requests, before, 'no request for a valid cached file');
});

test('a checksum mismatch is an error and nothing is written', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-pull-'));
  await assert.rejects(
    pullDatasets({ sources: [source('svamp/SVAMP.json', '/tampered.jsonl')], cacheDir }),
    (err: unknown) =>
      err instanceof DatasetPullError && err.reason === 'checksum' && /does not match/.test(err.message),
  );
  assert.deepEqual(readdirSync(cacheDir), []);
});

test('size-only entries check the size; unknown entries are marked unverified', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-pull-'));
  await assert.rejects(
    pullDatasets({ sources: [source('a/x.jsonl', '/good.jsonl', { sha256: null, bytes: 3 })], cacheDir }),
    (err: unknown) => err instanceof DatasetPullError && err.reason === 'size',
  );
  assert.ok(!existsSync(join(cacheDir, 'a', 'x.jsonl')));
  const r = await pullDatasets({
    sources: [source('a/y.jsonl', '/good.jsonl', { sha256: null, bytes: null, optional: true })],
    cacheDir,
    includeOptional: true,
  });
  assert.equal(r[0]?.verified, 'none');
  const skipped = await pullDatasets({
    sources: [source('a/z.jsonl', '/good.jsonl', { optional: true })],
    cacheDir,
  });
  assert.deepEqual(skipped, []);
});

test('a 404 is an error naming the status and URL; nothing is written', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'verdict-pull-'));
  await assert.rejects(
    pullDatasets({ sources: [source('mawps/m.jsonl', '/missing.jsonl')], cacheDir }),
    (err: unknown) =>
      err instanceof DatasetPullError &&
      err.reason === 'http' &&
      /HTTP 404/.test(err.message) &&
      err.message.includes(base),
  );
  assert.deepEqual(readdirSync(cacheDir), []);
});

test('the manifest is pinned to commits and covers every file the readers need', () => {
  const needed = [
    'gsm8k/train.jsonl',
    'gsm8k/test.jsonl',
    'svamp/SVAMP.json',
    'gsm-plus/gsmplus_testmini.jsonl',
    'gsm-hard/gsmhardv2.jsonl',
    'mawps/mawpsaddsub.jsonl',
    'mawps/mawpsmultiarith.jsonl',
    'mawps/mawpssingleeq.jsonl',
    'mawps/mawpssingleop.jsonl',
  ];
  for (const file of needed) {
    const entry = DATASET_SOURCES.find((s) => s.file === file);
    assert.ok(entry && !entry.optional && entry.sha256 !== null && /^[0-9a-f]{64}$/.test(entry.sha256), file);
    assert.match(entry.url, /^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//, file);
  }
});
