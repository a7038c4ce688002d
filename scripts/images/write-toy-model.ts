// Writes the random toy student and judge the image smoke test mounts read-only at
// /data/models/{student,judge} (the same sizes as `verdict up --toy` and the e2e tests; the toy
// tokenizer has single-token " Yes"/" No", which the judge needs).
// Usage: node --import tsx scripts/images/write-toy-model.ts <out-dir>
import { resolve } from 'node:path';
import { writeRandomToyModel } from '@verdict/recipes';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: write-toy-model.ts <out-dir>\n');
  process.exit(2);
}
const student = writeRandomToyModel(resolve(out, 'student'), {
  hiddenSize: 16,
  layers: 1,
  maxPositions: 256,
  seed: 3,
  scale: 0.5,
});
const judge = writeRandomToyModel(resolve(out, 'judge'), {
  hiddenSize: 32,
  layers: 2,
  maxPositions: 512,
  seed: 11,
  scale: 1.5,
});
process.stdout.write(`${student}\n${judge}\n`);
