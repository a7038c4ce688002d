import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeToyTokenizer } from '@verdict/data';
import { locateSharedDir } from '@verdict/models';

/** A shared opt-tiny checkpoint folder (config.json, model.safetensors, reference.json; no tokenizer). */
export function optTinyDir(name: 'opt-tiny-galactica' | 'opt-tiny-350m-style'): string {
  const dir = join(locateSharedDir(), 'fixtures', 'opt-tiny', name);
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(`opt-tiny fixture not found at ${dir} (set VERDICT_SHARED_DIR to the shared folder)`);
  }
  return dir;
}

/**
 * A copy of an opt-tiny checkpoint with the toy tokenizer added, so the services can tokenize toy
 * prompts: the fixtures ship without one, and the toy tokenizer's ids fit OPT's vocab of 1024 and
 * its specials match OPT's (eos 2). The shared fixture itself is never written to.
 */
export function writeOptStudent(name: 'opt-tiny-galactica' | 'opt-tiny-350m-style' = 'opt-tiny-galactica'): {
  dir: string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), `verdict-e2e-${name}-`));
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(optTinyDir(name), f), join(dir, f));
  writeToyTokenizer(dir);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
