import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomToyModel } from '@verdict/recipes';

export interface ToyModelOptions {
  readonly hiddenSize: number;
  readonly layers: number;
  readonly maxPositions: number;
  readonly seed: number;
  readonly scale: number;
}

/** A random-weight tiny Llama with the toy tokenizer in a temp folder (see writeRandomToyModel). */
export function writeToyModel(prefix: string, o: ToyModelOptions): { dir: string; cleanup: () => void } {
  const dir = writeRandomToyModel(mkdtempSync(join(tmpdir(), `verdict-e2e-${prefix}-`)), o);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The tiny student (policy) and judge of the end-to-end tests. */
export function writeToyStudent() {
  return writeToyModel('student', { hiddenSize: 16, layers: 1, maxPositions: 256, seed: 3, scale: 0.5 });
}

export function writeToyJudge() {
  return writeToyModel('judge', { hiddenSize: 32, layers: 2, maxPositions: 512, seed: 11, scale: 1.5 });
}
