import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { locateSharedDir } from '@verdict/models';

/** The stories260k checkpoint (a real, tiny Llama) from the shared folder; fails clearly when absent. */
export function stories260kDir(): string {
  const dir = join(locateSharedDir(), 'fixtures', 'stories260k');
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(`stories260k fixture not found at ${dir} (set VERDICT_SHARED_DIR to the shared folder)`);
  }
  return dir;
}
