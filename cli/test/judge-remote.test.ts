import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJudgeServerApp, type JudgeServerApp, loadJudgeServerConfig } from '@verdict/judge-server';
import { writeRandomToyModel } from '@verdict/recipes';
import {
  createTestCertificates,
  findFreePort,
  opensslMissingReason,
  type TestCertificates,
} from '@verdict/runtime/testing';
import { verdictInProcess } from './in-process.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const verdict = (args: string[]) => verdictInProcess(args);

interface Row {
  id: string;
  score: number;
  p_yes_full: number;
  other_mass: number;
  yes_id: number;
  no_id: number;
  z_yes: number;
  z_no: number;
  status: string;
  provenance: { judge_model_id: string; template_name: string; template_hash: string };
}

function assertSameScores(remote: Row[], local: Row[]): void {
  assert.equal(remote.length, local.length);
  for (let i = 0; i < local.length; i++) {
    const r = remote[i]!;
    const l = local[i]!;
    assert.equal(r.id, l.id);
    assert.equal(r.status, 'OK');
    assert.equal(r.yes_id, l.yes_id);
    assert.equal(r.no_id, l.no_id);
    for (const k of ['score', 'p_yes_full', 'other_mass', 'z_yes', 'z_no'] as const) {
      assert.ok(Math.abs(r[k] - l[k]) <= 1e-5, `${l.id}.${k}: remote ${r[k]} vs local ${l[k]}`);
    }
    assert.deepEqual(r.provenance, l.provenance);
  }
}

describe('verdict judge --remote', () => {
  let work: string;
  let modelDir: string;
  let itemsFile: string;
  let app: JudgeServerApp;
  let address: string;
  let local: Row[];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'verdict-cli-remote-'));
    modelDir = writeRandomToyModel(join(work, 'toy-judge'), {
      hiddenSize: 32,
      layers: 2,
      maxPositions: 128,
      seed: 11,
      scale: 1.5,
      numHeads: 4,
      numKvHeads: 2,
    });
    itemsFile = join(work, 'items.jsonl');
    const items = [
      { id: 'a', question: 'What is 2+3?', answer: 'The answer is 5.' },
      { id: 'b', question: 'What is 2+3?', answer: 'The answer is 7.' },
      { id: 'c', question: 'Tom has 4 apples and eats 1. How many are left?', solution: '3' },
      { id: 'd', question: 'What is 10 - 4?', answer: 'Six.' },
    ];
    writeFileSync(itemsFile, `${items.map((i) => JSON.stringify(i)).join('\n')}\n`);
    app = createJudgeServerApp(
      loadJudgeServerConfig({ JUDGE_MODEL_DIR: modelDir, JUDGE_HOST: '127.0.0.1', JUDGE_PORT: '0' }),
      { telemetry: false, logger: { debug() {}, info() {}, warn() {}, error() {} } },
    );
    address = `127.0.0.1:${(await app.start()).port}`;
    const r = await verdict(['judge', '--model', modelDir, '--items', itemsFile, '--json']);
    assert.equal(r.code, 0, r.stderr);
    local = JSON.parse(r.stdout).results;
    assert.equal(local.length, 4);
  });

  after(async () => {
    await app?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('a JudgeBatch on the server scores the items as the local model does', async () => {
    const r = await verdict(['judge', '--remote', address, '--items', itemsFile, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const remote = JSON.parse(r.stdout).results as Row[];
    assertSameScores(remote, local);
    // Random weights: the four items must not all score the same, or the comparison proves little.
    assert.ok(new Set(local.map((x) => x.score.toFixed(6))).size > 1);
    assert.equal(local[0]!.provenance.judge_model_id, 'toy-judge');
    assert.match(local[0]!.provenance.template_hash, /^[0-9a-f]{64}$/);
  });

  it('one item (spawned bin/verdict): same keys as local, explicit template, exit 0', async () => {
    const args = [
      '--question',
      'What is 2+3?',
      '--answer',
      'The answer is 5.',
      '--template',
      'plain',
      '--json',
    ];
    // Asynchronous spawn: the judge-server runs in this process and must keep answering.
    const remote = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(
        'npx',
        ['--no-install', 'verdict', 'judge', '--remote', address, ...args],
        { cwd: repoRoot },
        (e, stdout, stderr) =>
          done({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : -1, stdout, stderr }),
      );
    });
    assert.equal(remote.code, 0, remote.stderr);
    const out = JSON.parse(remote.stdout);
    assert.deepEqual(Object.keys(out).slice(0, 5), ['score', 'p_yes_full', 'other_mass', 'yes_id', 'no_id']);
    assert.ok(Math.abs(out.score - local[0]!.score) <= 1e-5);
    assert.equal(out.provenance.template_name, 'plain');
  });

  it('bad flags exit 2 naming the flag', async () => {
    const q = ['--question', 'q', '--answer', 'a'];
    const cases: [string[], RegExp][] = [
      [['--remote', 'localhost'], /--remote must be HOST:PORT \(got "localhost"\)/],
      [['--remote', 'http://127.0.0.1:50052'], /--remote must be HOST:PORT/],
      [['--remote', '127.0.0.1:0'], /--remote must be HOST:PORT/],
      [['--remote', '127.0.0.1:70000'], /--remote must be HOST:PORT/],
      [['--remote', address, '--deadline', 'soon'], /--deadline must be a duration/],
      [['--remote', address, '--ca', 'ca.pem'], /--ca needs --tls/],
      [['--remote', address, '--tls', '--cert', 'c.pem'], /--cert and --key go together/],
      [
        ['--remote', address, '--tls', '--ca', join(work, 'missing.pem')],
        /--ca .*missing\.pem cannot be read/,
      ],
      [['--model', modelDir, '--tls'], /--tls needs --remote/],
      [['--model', modelDir, '--remote', address], /either --model or --remote/],
      [[], /--model DIR or --remote HOST:PORT is required/],
    ];
    for (const [flags, message] of cases) {
      const r = await verdict(['judge', ...flags, ...q]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it("the server's INVALID_ARGUMENT exits 2 with its field message", async () => {
    const r = await verdict(['judge', '--remote', address, '--question', 'What is 2+3?', '--answer', '  ']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /rejected the request: items\[0\]\.solution: solution must not be empty/);
    const chat = await verdict([
      'judge',
      '--remote',
      address,
      '--question',
      'q',
      '--answer',
      'a',
      '--template',
      'chat',
    ]);
    assert.equal(chat.code, 2, chat.stderr);
    assert.match(chat.stderr, /items\[0\]\.template_name: unknown judge template "chat"/);
  });

  it('an unreachable server exits 1 with one clear line', async () => {
    const port = await findFreePort(); // free now: nothing listens there
    const r = await verdict([
      'judge',
      '--remote',
      `127.0.0.1:${port}`,
      '--deadline',
      '3s',
      '--question',
      'q',
      '--answer',
      'a',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('verdict judge:'));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0]!,
      new RegExp(`judge-server 127\\.0\\.0\\.1:${port} (is unavailable|did not answer)`),
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /); // one line, no stack trace
  });

  describe("TLS (the judge-server's own TLS listener: JUDGE_TLS_* variables)", () => {
    // The only name in the server certificate (no IP SAN, so connecting by IP needs --server-name).
    const serverName = 'judge.verdict.test';
    let tls: TestCertificates | undefined;
    const tlsApps: JudgeServerApp[] = [];
    // Ports of two more judge-servers on the same toy model: TLS, and TLS requiring client certificates.
    const ports = { serverAuthPort: 0, mtlsPort: 0 };
    const skip = opensslMissingReason();

    const startTlsApp = async (env: Record<string, string>): Promise<number> => {
      const tlsApp = createJudgeServerApp(
        loadJudgeServerConfig({
          JUDGE_MODEL_DIR: modelDir,
          JUDGE_HOST: '127.0.0.1',
          JUDGE_PORT: '0',
          JUDGE_TLS_CERT_FILE: tls!.server.certFile,
          JUDGE_TLS_KEY_FILE: tls!.server.keyFile,
          ...env,
        }),
        { telemetry: false, logger: { debug() {}, info() {}, warn() {}, error() {} } },
      );
      tlsApps.push(tlsApp);
      return (await tlsApp.start()).port;
    };

    before(async () => {
      if (skip) return;
      tls = createTestCertificates({ serverNames: [serverName] });
      ports.serverAuthPort = await startTlsApp({});
      ports.mtlsPort = await startTlsApp({ JUDGE_TLS_CLIENT_CA_FILE: tls.ca.certFile });
    });
    after(async () => {
      for (const tlsApp of tlsApps) await tlsApp.stop();
      tls?.cleanup();
    });

    it('server-auth TLS with --ca and --server-name scores like the local model', { skip }, async () => {
      const t = tls!;
      const base = ['judge', '--items', itemsFile, '--json', '--tls', '--ca', t.ca.certFile];
      const named = await verdict([
        ...base,
        '--remote',
        `127.0.0.1:${ports.serverAuthPort}`,
        '--server-name',
        serverName,
      ]);
      assert.equal(named.code, 0, named.stderr);
      assertSameScores(JSON.parse(named.stdout).results, local);
      // The certificate names judge.verdict.test only: by IP without --server-name the check fails.
      const byIp = await verdict([
        ...base,
        '--remote',
        `127.0.0.1:${ports.serverAuthPort}`,
        '--deadline',
        '3s',
      ]);
      assert.equal(byIp.code, 1, byIp.stderr);
      // Without the CA the server certificate is not trusted.
      const noCa = await verdict([
        'judge',
        '--items',
        itemsFile,
        '--tls',
        '--remote',
        `127.0.0.1:${ports.serverAuthPort}`,
        '--server-name',
        serverName,
        '--deadline',
        '3s',
      ]);
      assert.equal(noCa.code, 1, noCa.stderr);
      // Plaintext against a TLS port fails cleanly too.
      const plain = await verdict([
        'judge',
        '--items',
        itemsFile,
        '--remote',
        `127.0.0.1:${ports.serverAuthPort}`,
        '--deadline',
        '3s',
      ]);
      assert.equal(plain.code, 1, plain.stderr);
    });

    it('mutual TLS: --cert/--key are required by the server and accepted', { skip }, async () => {
      const t = tls!;
      const base = [
        'judge',
        '--items',
        itemsFile,
        '--json',
        '--tls',
        '--ca',
        t.ca.certFile,
        '--server-name',
        serverName,
        '--remote',
        `127.0.0.1:${ports.mtlsPort}`,
      ];
      const ok = await verdict([...base, '--cert', t.client.certFile, '--key', t.client.keyFile]);
      assert.equal(ok.code, 0, ok.stderr);
      assertSameScores(JSON.parse(ok.stdout).results, local);
      const noClientCert = await verdict([...base, '--deadline', '3s']);
      assert.equal(noClientCert.code, 1, noClientCert.stderr);
      assert.match(noClientCert.stderr, /judge-server 127\.0\.0\.1:\d+ \(TLS\)/);
    });
  });
});
