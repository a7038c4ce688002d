#!/usr/bin/env node
// One node:test run over every *.test.ts (and *.test.mjs) under the given roots (default: the whole
// workspace), so CI reads a single summary. Node 20 does not expand globs, hence the walk.
// *.gpu.test.ts files need a GPU and run only with VERDICT_GPU_TESTS=1.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const SKIP_DIRS = new Set(['node_modules', 'dist', '.turbo', '.git', '.verdict']);
const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const searchRoots = roots.length > 0 ? roots : ['libs', 'services', 'cli', 'test', 'scripts'];
const withGpu = process.env.VERDICT_GPU_TESTS === '1';

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out; // a root that does not exist yet contributes no files
  }
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(join(dir, e.name), out);
    } else if (e.name.endsWith('.test.ts') || e.name.endsWith('.test.mjs')) {
      if (e.name.endsWith('.gpu.test.ts') && !withGpu) continue;
      out.push(join(dir, e.name));
    }
  }
  return out;
}

const files = searchRoots.flatMap((r) => walk(resolve(r), [])).sort();
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${searchRoots.join(', ')}`);
  process.exit(1);
}
console.error(`run-tests: ${files.length} test files`);
for (const f of files) console.error(`  ${relative(process.cwd(), f)}`);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-timeout=600000', ...passThrough, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
