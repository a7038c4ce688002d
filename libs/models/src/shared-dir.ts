import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError } from './errors.js';

/**
 * The shared data folder (fixtures, tokenizers, datasets): `$VERDICT_SHARED_DIR`, else
 * `../shared` next to the repository root. Absent → a NOT_FOUND saying where it looked, so a
 * test that needs it fails loudly instead of skipping.
 */
export function locateSharedDir(): string {
  const fromEnv = process.env['VERDICT_SHARED_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv))
      throw new ModelError('NOT_FOUND', `VERDICT_SHARED_DIR=${fromEnv} does not exist`);
    return resolve(fromEnv);
  }
  // The repository root is the nearest ancestor holding the workspace lockfile.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package-lock.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const candidate = resolve(dir, '..', 'shared');
  if (!existsSync(candidate)) {
    throw new ModelError(
      'NOT_FOUND',
      `the shared data folder is absent: set VERDICT_SHARED_DIR or provide ${candidate} (fixtures/stories260k, tokenizers/qwen3)`,
    );
  }
  return candidate;
}
