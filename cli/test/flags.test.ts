import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineCommand, parseFlags, runCli, UsageError } from '../src/index.js';

describe('flag parsing', () => {
  const specs = {
    name: { type: 'string', required: true, description: 'n' },
    count: { type: 'int', default: 3, min: 1, max: 10, description: 'c' },
    ratio: { type: 'number', greaterThan: 0, max: 1, description: 'r' },
    loud: { type: 'boolean', description: 'l' },
  } as const;

  it('parses --a b, --a=b, booleans and defaults into camelCase keys', () => {
    assert.deepEqual(parseFlags(specs, ['--name', 'x', '--ratio=0.5', '--loud']), {
      name: 'x',
      count: 3,
      ratio: 0.5,
      loud: true,
    });
  });

  it('names the flag and the limit', () => {
    assert.throws(
      () => parseFlags(specs, ['--name', 'x', '--count', '11']),
      /--count must be an integer >= 1 and <= 10 \(got "11"\)/,
    );
    assert.throws(
      () => parseFlags(specs, ['--name', 'x', '--ratio', 'Infinity']),
      /--ratio must be a finite number > 0 and <= 1/,
    );
    assert.throws(() => parseFlags(specs, []), /--name is required/);
    assert.throws(() => parseFlags(specs, ['--name']), /--name needs a value/);
    assert.throws(() => parseFlags(specs, ['--name', 'a', '--name', 'b']), /given more than once/);
    assert.throws(() => parseFlags(specs, ['stray']), UsageError);
  });

  it('runCli: one JSON document with --json, exit 2 on bad input, multi-word commands', async () => {
    const cmd = defineCommand({
      name: 'toy prepare',
      summary: 's',
      flags: { n: { type: 'int', default: 1, min: 1, description: 'n' } },
      run: async (f, ctx) => {
        ctx.progress('working');
        return { n: f.n };
      },
    });
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
    assert.equal(await runCli([cmd], ['toy', 'prepare', '--n', '4', '--json'], io), 0);
    assert.deepEqual(JSON.parse(out.join('')), { n: 4 });
    assert.deepEqual(err, ['working\n']);
    assert.equal(await runCli([cmd], ['toy', 'prepare', '--n', '0'], io), 2);
    assert.match(err.at(-1)!, /^verdict toy prepare: --n must be an integer >= 1 \(got "0"\)\n$/);
  });
});
