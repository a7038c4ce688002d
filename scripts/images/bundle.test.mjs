// The image bundles outside any container: built into an empty folder that holds only what the
// Dockerfile puts in /app (bundles + the staged onnxruntime-node), so an import that esbuild
// left external by mistake fails here. Part of `npm test` (scripts/ is a test root); alone:
//   node --import tsx --test scripts/images/bundle.test.mjs
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeRandomToyModel } from '@verdict/recipes';
import { bundleAll, SERVICES } from './bundle.mjs';
import { decodeHealthResponse, encodeHealthRequest, waitForServing } from './health-check.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'verdict-bundle-test-'));
const app = join(work, 'app');
const children = [];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

before(async () => {
  await bundleAll({ outDir: app });
  const staged = spawnSync('sh', [
    join(ROOT, 'scripts/images/stage-ort.sh'),
    join(ROOT, 'node_modules'),
    join(app, 'node_modules'),
  ]);
  assert.equal(staged.status, 0, staged.stderr.toString());
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

test('one bundle per service, the CLI, the ORT worker and an ESM package.json', () => {
  const files = readdirSync(app).sort();
  for (const s of SERVICES) assert.ok(files.includes(`${s}.mjs`), `${s}.mjs missing`);
  for (const f of ['verdict.mjs', 'session-worker.js', 'package.json']) assert.ok(files.includes(f), f);
  assert.deepEqual(readdirSync(join(app, 'node_modules')).sort(), ['onnxruntime-common', 'onnxruntime-node']);
  const bins = join(app, 'node_modules/onnxruntime-node/bin/napi-v6');
  assert.deepEqual(readdirSync(bins), ['linux']);
  assert.deepEqual(readdirSync(join(bins, 'linux')), ['x64']);
});

test('the bundled CLI lists the same commands as the tsx CLI (static registry)', () => {
  const commandsOf = (args) => {
    const r = spawnSync(process.execPath, [...args, '--help'], { cwd: work, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .split('\n')
      .filter((l) => /^ {2}\S/.test(l))
      .map((l) => l.trim().split(/\s{2,}/)[0]);
  };
  const bundled = commandsOf([join(app, 'verdict.mjs')]);
  const source = commandsOf([join(ROOT, 'cli/bin/verdict.mjs')]);
  assert.ok(bundled.length >= 5, `too few commands: ${bundled.join(', ')}`);
  assert.deepEqual(bundled, source);
});

test('the judge-server bundle loads a model through the ORT worker and answers health SERVING', async () => {
  const model = writeRandomToyModel(join(work, 'judge'), {
    hiddenSize: 32,
    layers: 2,
    maxPositions: 512,
    seed: 11,
    scale: 1.5,
  });
  const port = await freePort();
  let log = '';
  const child = spawn(process.execPath, [join(app, 'judge-server.mjs')], {
    cwd: work,
    env: {
      PATH: process.env.PATH,
      JUDGE_PORT: String(port),
      JUDGE_HOST: '127.0.0.1',
      JUDGE_MODEL_DIR: model,
    },
  });
  children.push(child);
  child.stderr.on('data', (d) => {
    log += d;
  });
  child.stdout.on('data', (d) => {
    log += d;
  });
  const result = await waitForServing(`127.0.0.1:${port}`, { timeoutMs: 30_000 });
  assert.equal(result.status, 'SERVING', log);
  assert.match(log, /judge model loaded/);
  child.kill('SIGTERM');
  const code = await new Promise((res) => child.on('exit', (c) => res(c)));
  assert.equal(code, 0, log);
});

test('the bundled CLI judges with the staged ORT (worker thread next to the bundle)', () => {
  const model = join(work, 'judge');
  if (!existsSync(join(model, 'model.safetensors'))) {
    writeRandomToyModel(model, { hiddenSize: 32, layers: 2, maxPositions: 512, seed: 11, scale: 1.5 });
  }
  const r = spawnSync(
    process.execPath,
    [join(app, 'verdict.mjs'), 'judge', '--model', model, '--question', '2+3?', '--answer', '5', '--json'],
    { cwd: work, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.score > 0 && out.score < 1, r.stdout);
});

test('health messages: request encoding and response decoding', () => {
  assert.equal(encodeHealthRequest('').length, 0);
  assert.deepEqual([...encodeHealthRequest('ab')], [0x0a, 2, 0x61, 0x62]);
  assert.equal(decodeHealthResponse(Buffer.from([0x08, 0x01])), 'SERVING');
  assert.equal(decodeHealthResponse(Buffer.from([0x08, 0x02])), 'NOT_SERVING');
  assert.equal(decodeHealthResponse(Buffer.alloc(0)), 'UNKNOWN');
  assert.throws(() => decodeHealthResponse(Buffer.from([0x12, 0x00])), /unexpected field/);
});
