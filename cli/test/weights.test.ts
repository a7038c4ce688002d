import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeRandomToyModel } from '@verdict/recipes';
import { connectNats, type Messaging, VERDICT_WEIGHTS_BUCKET } from '@verdict/runtime';
import { findFreePort, type NatsServerHandle, startNatsServer } from '@verdict/runtime/testing';
import { verdictInProcess } from './in-process.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const verdict = (args: string[]) => verdictInProcess(args);

function toyModel(dir: string, seed: number): string {
  return writeRandomToyModel(dir, { hiddenSize: 32, layers: 2, maxPositions: 64, seed, scale: 1.5 });
}

function assertSameFiles(a: string, b: string, files: readonly string[]): void {
  for (const f of files) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs`);
}

/** Greedy generation through the CLI: proves a folder loads and runs, and compares two folders. */
async function generate(model: string): Promise<{ ids: number[]; logprobs: number[] }> {
  const r = await verdict([
    'generate',
    '--model',
    model,
    '--prompt',
    'Tom has 3 apples',
    '--max-new-tokens',
    '6',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('verdict weights push / pull (real nats-server)', () => {
  let nats: NatsServerHandle;
  let work: string;
  let modelDir: string;
  let messaging: Messaging;
  const modelFiles = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

  before(async () => {
    nats = await startNatsServer();
    work = mkdtempSync(join(tmpdir(), 'verdict-cli-weights-'));
    modelDir = toyModel(join(work, 'src-model'), 5);
    messaging = await connectNats({ servers: nats.url });
  });

  after(async () => {
    await messaging?.close();
    await nats?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('push then pull gives byte-identical files in a folder that loads; a rerun is a no-op', async () => {
    const push = await verdict([
      'weights',
      'push',
      '--nats',
      nats.url,
      '--name',
      'toy',
      '--model',
      modelDir,
      '--json',
    ]);
    assert.equal(push.code, 0, push.stderr);
    const pushed = JSON.parse(push.stdout);
    assert.equal(pushed.bucket, VERDICT_WEIGHTS_BUCKET);
    assert.deepEqual(pushed.files.map((f: { path: string }) => f.path).sort(), modelFiles);

    const parent = join(work, 'pulled');
    const out = join(parent, 'toy');
    const pull = await verdict([
      'weights',
      'pull',
      '--nats',
      nats.url,
      '--name',
      'toy',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(pull.code, 0, pull.stderr);
    const pulled = JSON.parse(pull.stdout);
    assert.equal(pulled.up_to_date, false);
    assert.deepEqual(pulled.files, pushed.files); // same sizes and sha256 as uploaded
    assertSameFiles(modelDir, out, modelFiles);
    assert.deepEqual(readdirSync(parent), ['toy']); // the temp folder was renamed, nothing left over
    assert.deepEqual(await generate(out), await generate(modelDir));

    const again = await verdict([
      'weights',
      'pull',
      '--nats',
      nats.url,
      '--name',
      'toy',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).up_to_date, true);
  });

  it('a re-pushed model replaces the pulled folder (spawned bin/verdict, as the init container runs it)', async () => {
    const other = toyModel(join(work, 'src-model-2'), 6);
    assert.equal(
      (await verdict(['weights', 'push', '--nats', nats.url, '--name', 'swap', '--model', modelDir])).code,
      0,
    );
    const out = join(work, 'pulled-swap', 'swap');
    assert.equal(
      (await verdict(['weights', 'pull', '--nats', nats.url, '--name', 'swap', '--out', out])).code,
      0,
    );
    assertSameFiles(modelDir, out, modelFiles);
    assert.equal(
      (await verdict(['weights', 'push', '--nats', nats.url, '--name', 'swap', '--model', other])).code,
      0,
    );
    const r = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(
        'npx',
        ['--no-install', 'verdict', 'weights', 'pull', '--nats', nats.url, '--name', 'swap', '--out', out],
        { cwd: repoRoot },
        (e, _stdout, stderr) =>
          done({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : -1, stderr }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    assertSameFiles(other, out, modelFiles);
    assert.ok(
      !readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(modelDir, 'model.safetensors'))),
    );
    assert.deepEqual(readdirSync(dirname(out)), ['swap']);
  });

  it('pulls a learner checkpoint by run and version, completed by a --base model', async () => {
    const trained = toyModel(join(work, 'trained'), 7);
    const bytes = readFileSync(join(trained, 'model.safetensors'));
    // Exactly the learner's publishWeights call: `${runId}/v${version}.safetensors` in the weights bucket.
    await messaging.putBlob(VERDICT_WEIGHTS_BUCKET, 'run-t/v2.safetensors', bytes);
    await verdict(['weights', 'push', '--nats', nats.url, '--name', 'base', '--model', modelDir]);
    const out = join(work, 'pulled-ckpt', 'policy');
    const r = await verdict([
      'weights',
      'pull',
      '--nats',
      nats.url,
      '--name',
      'run-t',
      '--version',
      '2',
      '--base',
      'base',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).kind, 'checkpoint');
    assert.ok(readFileSync(join(out, 'model.safetensors')).equals(bytes));
    assertSameFiles(modelDir, out, ['config.json', 'tokenizer.json', 'tokenizer_config.json']);
    assert.deepEqual(await generate(out), await generate(trained));

    const noBase = await verdict([
      'weights',
      'pull',
      '--nats',
      nats.url,
      '--name',
      'run-t/v2.safetensors',
      '--out',
      out,
    ]);
    assert.equal(noBase.code, 2, noBase.stderr);
    assert.match(noBase.stderr, /give --base NAME/);
    const missing = await verdict([
      'weights',
      'pull',
      '--nats',
      nats.url,
      '--name',
      'run-t',
      '--version',
      '9',
      '--base',
      'base',
      '--out',
      join(work, 'v9'),
    ]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /run-t\/v9\.safetensors not found/);
    assert.ok(!existsSync(join(work, 'v9')));
  });

  it('a checksum mismatch fails the pull and leaves no folder behind', async () => {
    assert.equal(
      (await verdict(['weights', 'push', '--nats', nats.url, '--name', 'bad', '--model', modelDir])).code,
      0,
    );
    // Replace one object behind the manifest's back (its own metadata digest is then consistent).
    const tampered = Buffer.from(readFileSync(join(modelDir, 'model.safetensors')));
    tampered[tampered.length - 1] = (tampered[tampered.length - 1]! + 1) % 256;
    await messaging.putBlob(VERDICT_WEIGHTS_BUCKET, 'bad/model.safetensors', tampered);
    const parent = join(work, 'pulled-bad');
    const r = await verdict([
      'weights',
      'pull',
      '--nats',
      nats.url,
      '--name',
      'bad',
      '--out',
      join(parent, 'bad'),
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /bad\/model\.safetensors failed its checksum/);
    assert.deepEqual(readdirSync(parent), []); // no half folder, no temp folder
  });

  it('missing names exit 1 naming them; bad input exits 2 naming the flag', async () => {
    const missing = await verdict([
      'weights',
      'pull',
      '--nats',
      nats.url,
      '--name',
      'no-such-model',
      '--out',
      join(work, 'x'),
    ]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /no model named "no-such-model" in bucket verdict-weights/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);

    const foreign = join(work, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    const cases: [string[], RegExp][] = [
      [
        ['pull', '--nats', 'http://127.0.0.1:4222', '--name', 'toy', '--out', join(work, 'y')],
        /--nats must be nats:\/\/HOST:PORT/,
      ],
      [['pull', '--nats', 'nats://', '--name', 'toy', '--out', join(work, 'y')], /--nats must be/],
      [
        ['pull', '--nats', nats.url, '--name', '../toy', '--out', join(work, 'y')],
        /--name must be an object name/,
      ],
      [
        ['pull', '--nats', nats.url, '--name', 'toy', '--bucket', 'a.b', '--out', join(work, 'y')],
        /--bucket must be/,
      ],
      [
        ['pull', '--nats', nats.url, '--name', 'toy', '--out', foreign],
        /--out .* exists and was not written by weights pull/,
      ],
      [
        ['pull', '--nats', nats.url, '--name', 'toy', '--base', 'base', '--out', join(work, 'y')],
        /--base applies only to checkpoint/,
      ],
      [
        [
          'pull',
          '--nats',
          nats.url,
          '--name',
          'toy',
          '--out',
          join(work, 'y'),
          '--creds',
          join(work, 'none.creds'),
        ],
        /--creds .* cannot be read/,
      ],
      [['push', '--nats', 'mem://x', '--name', 'toy', '--model', modelDir], /--nats must be/],
      [
        ['push', '--nats', nats.url, '--name', 'toy', '--model', join(work, 'nowhere')],
        /--model .* cannot be read/,
      ],
      [['push', '--nats', nats.url, '--name', 'toy', '--model', foreign], /--model .* has no config\.json/],
    ];
    for (const [args, message] of cases) {
      const r = await verdict(['weights', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'mine');
  });

  it('an unreachable NATS exits 1 with one line', async () => {
    const port = await findFreePort();
    const r = await verdict([
      'weights',
      'pull',
      '--nats',
      `nats://127.0.0.1:${port}`,
      '--name',
      'toy',
      '--out',
      join(work, 'z'),
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
