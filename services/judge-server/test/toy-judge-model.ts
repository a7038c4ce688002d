import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomToyModel } from '@verdict/recipes';

/** A random-weight tiny judge with the toy tokenizer (single-token " Yes"/" No") in a temp folder. */
export function writeToyJudgeModel(
  options: { maxPositions?: number; seed?: number; hiddenSize?: number; layers?: number } = {},
): { dir: string; cleanup: () => void } {
  const dir = writeRandomToyModel(mkdtempSync(join(tmpdir(), 'verdict-toy-judge-')), {
    hiddenSize: options.hiddenSize ?? 32,
    layers: options.layers ?? 2,
    maxPositions: options.maxPositions ?? 128,
    seed: options.seed ?? 11,
    scale: 1.5,
    numHeads: 4,
    numKvHeads: 2,
  });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
