import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DatasetMissingError, datasetCacheDir, resolveDataDir, resolveDatasetFile } from './data-dir.js';

function tree(): { root: string; repo: string; shared: string; envDir: string; home: string } {
  const root = mkdtempSync(join(tmpdir(), 'verdict-data-dir-'));
  const repo = join(root, 'work', 'main', 'libs', 'data');
  const shared = join(root, 'work', 'shared', 'datasets');
  const envDir = join(root, 'env-data');
  const home = join(root, 'home');
  for (const d of [repo, join(shared, 'gsm8k'), join(envDir, 'svamp'), home])
    mkdirSync(d, { recursive: true });
  writeFileSync(join(shared, 'gsm8k', 'test.jsonl'), '');
  writeFileSync(join(envDir, 'svamp', 'SVAMP.json'), '[]');
  return { root, repo, shared, envDir, home };
}

test('env wins, then shared/datasets found walking up, then the cache', () => {
  const t = tree();
  assert.deepEqual(resolveDataDir({ env: { VERDICT_DATA_DIR: t.envDir }, cwd: t.repo, homeDir: t.home }), {
    dir: t.envDir,
    origin: 'env',
  });
  assert.deepEqual(resolveDataDir({ env: {}, cwd: t.repo, homeDir: t.home }), {
    dir: t.shared,
    origin: 'shared',
  });
  const cache = resolveDataDir({ env: {}, cwd: t.home, homeDir: t.home });
  assert.equal(cache.origin, 'cache');
  assert.equal(cache.dir, join(t.home, '.cache', 'verdict', 'datasets'));
  assert.equal(datasetCacheDir({ env: { VERDICT_CACHE_DIR: '/c' } }), join('/c', 'datasets'));
});

test('files resolve per place; a missing file names all three places', () => {
  const t = tree();
  const options = { env: { VERDICT_DATA_DIR: t.envDir }, cwd: t.repo, homeDir: t.home };
  assert.equal(resolveDatasetFile('svamp/SVAMP.json', options), join(t.envDir, 'svamp', 'SVAMP.json'));
  assert.equal(resolveDatasetFile('gsm8k/test.jsonl', options), join(t.shared, 'gsm8k', 'test.jsonl'));
  assert.throws(
    () => resolveDatasetFile('mawps/mawpsaddsub.jsonl', options),
    (err: unknown) => {
      assert.ok(err instanceof DatasetMissingError);
      assert.deepEqual(
        err.searched.map((c) => c.origin),
        ['env', 'shared', 'cache'],
      );
      assert.match(err.message, new RegExp(join(t.envDir, 'mawps')));
      assert.match(err.message, new RegExp(join(t.shared, 'mawps')));
      assert.match(err.message, /\.cache\/verdict\/datasets\/mawps/);
      assert.match(err.message, /verdict data pull/);
      return true;
    },
  );
});
