#!/usr/bin/env node
// CI guard for committed generated code: lints the protos, regenerates libs/proto/src/gen and
// fails (exit 1, listing the files) when the result differs from what git has committed, i.e.
// when someone edited a .proto without regenerating, or hand-edited generated code.
// Run from anywhere: `npm run check:generated` (or `node scripts/check-generated.mjs`).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const generatedDir = 'libs/proto/src/gen';
// The npm-installed buf binary: pinned by package-lock.json and works offline.
const bufBin = join(repoRoot, 'node_modules', '.bin', 'buf');

/** Runs a command in the repo root, inheriting stdio; returns false instead of throwing on failure. */
function runStep(label, command, args) {
  process.stderr.write(`check-generated: ${label}\n`);
  try {
    execFileSync(command, args, { cwd: repoRoot, stdio: 'inherit' });
    return true;
  } catch {
    process.stderr.write(`check-generated: FAILED: ${label}\n`);
    return false;
  }
}

/** Files under generatedDir that differ from HEAD: modified, deleted or untracked. */
function listChangedGeneratedFiles() {
  // --untracked-files=all lists new files one by one instead of collapsing a new directory.
  const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', generatedDir], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return status.split('\n').filter((line) => line.trim() !== '');
}

// The check compares regenerated code with what is committed, so the tree must start clean.
// Failing here (before buf generate, whose `clean: true` wipes the output folder) also keeps a
// hand edit visible instead of silently overwriting it.
const dirtyBefore = listChangedGeneratedFiles();
if (dirtyBefore.length > 0) {
  process.stderr.write(
    `check-generated: ${dirtyBefore.length} file(s) under ${generatedDir} have uncommitted changes:\n` +
      dirtyBefore.map((line) => `  ${line}\n`).join('') +
      'Generated code must not be edited by hand: restore these files, or regenerate and commit.\n',
  );
  process.exit(1);
}

if (!runStep('buf lint', bufBin, ['lint'])) process.exit(1);
if (!runStep('buf generate', bufBin, ['generate'])) process.exit(1);

const changed = listChangedGeneratedFiles();
if (changed.length > 0) {
  process.stderr.write(
    `check-generated: ${changed.length} generated file(s) differ from the committed version:\n` +
      changed.map((line) => `  ${line}\n`).join('') +
      'Regenerate with `npm run generate -w @verdict/proto` and commit the result ' +
      '(never edit files under libs/proto/src/gen by hand).\n',
  );
  execFileSync('git', ['--no-pager', 'diff', '--stat', '--', generatedDir], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  process.exit(1);
}
process.stderr.write('check-generated: OK, generated code is up to date\n');
