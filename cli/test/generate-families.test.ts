import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { locateSharedDir, supportedModelTypes } from '@verdict/models';

// `verdict generate` on any registered family, from token ids and in batches, through the real CLI
// process. Needs shared/fixtures/opt-tiny (two tiny random OPT checkpoints without a tokenizer,
// with float64 references) and shared/fixtures/stories260k.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OPT_TINY = ['opt-tiny-galactica', 'opt-tiny-350m-style'] as const;

interface OptReference {
  cases: {
    input_ids: number[];
    all_position_logits: number[][];
    generated_ids: number[];
    generated_logprobs: number[];
  }[];
  batched: {
    input_ids: number[][];
    attention_mask: number[][];
    last_position_logits: number[][];
    generated_ids: number[][];
    generated_logprobs: number[][];
  };
  generation: { max_new_tokens: number };
  tolerance: { logits_abs: number; logprobs_abs: number };
}

/** A fixture folder of the shared data; absent → an error saying where it looked and what to set. */
function fixture(...parts: string[]): string {
  const dir = join(locateSharedDir(), 'fixtures', ...parts);
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(
      `fixture ${parts.join('/')} not found at ${dir} (set VERDICT_SHARED_DIR to the shared folder)`,
    );
  }
  return dir;
}

function reference(name: string): OptReference {
  return JSON.parse(readFileSync(join(fixture('opt-tiny', name), 'reference.json'), 'utf8')) as OptReference;
}

/** Runs the real `npx verdict` from the repository root, as users do. */
function verdict(args: string[]) {
  const r = spawnSync('npx', ['--no-install', 'verdict', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  assert.equal(a.length, b.length);
  return Math.max(0, ...a.map((x, i) => Math.abs(x - b[i]!)));
}

interface RowOut {
  prompt_ids: number[];
  ids: number[];
  text: string;
  logprobs: number[];
  last_logits?: number[];
}

const tmp = mkdtempSync(join(tmpdir(), 'verdict-generate-families-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let files = 0;
function writeTmp(name: string, text: string): string {
  const path = join(tmp, `${files++}-${name}`);
  writeFileSync(path, text);
  return path;
}

/** Exit 2, nothing on stdout, one `verdict ...` line on stderr matching `re`. */
function assertBadInput(r: ReturnType<typeof verdict>, re: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.match(lines.at(-1)!, re);
  assert.equal(lines.filter((l) => l.startsWith('verdict')).length, 1, r.stderr);
}

for (const name of OPT_TINY) {
  describe(`verdict generate on ${name} (OPT, no tokenizer)`, () => {
    it('--input-ids: greedy ids equal reference.json, logprobs and last logits within 1e-4', () => {
      const ref = reference(name);
      for (const [i, c] of ref.cases.entries()) {
        const r = verdict([
          'generate',
          '--model',
          fixture('opt-tiny', name),
          '--input-ids',
          c.input_ids.join(','),
          '--max-new-tokens',
          String(ref.generation.max_new_tokens),
          '--dump-logits',
          '--json',
        ]);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout) as RowOut; // exactly one JSON document
        assert.deepEqual(Object.keys(out), ['prompt_ids', 'ids', 'text', 'logprobs', 'last_logits']);
        assert.deepEqual(out.prompt_ids, c.input_ids, `case ${i}`);
        assert.deepEqual(out.ids, c.generated_ids, `case ${i}`);
        // The id-only tokenizer writes the ids as text.
        assert.equal(out.text, c.generated_ids.join(' '));
        assert.ok(maxAbsDiff(out.logprobs, c.generated_logprobs) <= ref.tolerance.logprobs_abs, `case ${i}`);
        const last = c.all_position_logits.at(-1)!;
        assert.ok(maxAbsDiff(out.last_logits!, last) <= ref.tolerance.logits_abs, `case ${i}`);
      }
    });

    it('--batch-file: the left-padded rows give the reference ids per row, one JSON line each, in input order', () => {
      const ref = reference(name);
      const b = ref.batched;
      const rows = b.input_ids.map((ids, r) => ids.filter((_, t) => b.attention_mask[r]![t] === 1));
      // The references' rows are not sorted by length (the engine groups by length internally),
      // and the single cases follow, so the output order is checked on rows of mixed lengths.
      const all = [...rows, ...ref.cases.map((c) => c.input_ids)];
      const file = writeTmp(
        'rows.jsonl',
        `${all.map((ids) => JSON.stringify({ input_ids: ids })).join('\n')}\n`,
      );
      const r = verdict([
        'generate',
        '--model',
        fixture('opt-tiny', name),
        '--batch-file',
        file,
        '--max-new-tokens',
        String(b.generated_ids[0]!.length),
        '--dump-logits',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines.length, all.length, 'one JSON line per row');
      const outs = lines.map((l) => JSON.parse(l) as RowOut);
      outs.forEach((out, i) => {
        assert.deepEqual(Object.keys(out), ['prompt_ids', 'ids', 'text', 'logprobs', 'last_logits']);
        assert.deepEqual(out.prompt_ids, all[i], `row ${i} in input order`);
      });
      b.generated_ids.forEach((want, i) => {
        assert.deepEqual(outs[i]!.ids, want, `batched row ${i}`);
        assert.ok(maxAbsDiff(outs[i]!.logprobs, b.generated_logprobs[i]!) <= ref.tolerance.logprobs_abs);
        assert.ok(maxAbsDiff(outs[i]!.last_logits!, b.last_position_logits[i]!) <= ref.tolerance.logits_abs);
      });
      // The single cases ran 24 tokens alone; here the batch stops at 16 (their first 16).
      ref.cases.forEach((c, i) => {
        const want = c.generated_ids.slice(0, b.generated_ids[0]!.length);
        assert.deepEqual(outs[rows.length + i]!.ids, want, `case ${i} in the batch`);
      });
    });

    it('--prompt on a folder without tokenizer.json: exit 2 saying to give ids', () => {
      const r = verdict(['generate', '--model', fixture('opt-tiny', name), '--prompt', 'hi', '--json']);
      assertBadInput(r, /--prompt: text needs a tokenizer and .* has no tokenizer\.json; give token ids/);
    });
  });
}

describe('verdict generate: bad input', () => {
  it('an unsupported model_type: exit 2 listing the supported types (generate, judge, eval)', () => {
    const dir = mkdtempSync(join(tmp, 'gpt2-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: 16 }));
    const listed = new RegExp(
      `unsupported model_type "gpt2": supported are ${supportedModelTypes().join(', ')}`,
    );
    assert.ok(supportedModelTypes().includes('opt') && supportedModelTypes().includes('llama'));
    // Without tokenizer.json (the id-only path) and with one (the registry's loadModel).
    assertBadInput(verdict(['generate', '--model', dir, '--input-ids', '1,2', '--json']), listed);
    copyFileSync(join(fixture('stories260k'), 'tokenizer.json'), join(dir, 'tokenizer.json'));
    assertBadInput(verdict(['generate', '--model', dir, '--prompt', 'hi', '--json']), listed);
    assertBadInput(verdict(['judge', '--model', dir, '--question', 'q', '--answer', 'a', '--json']), listed);
    assertBadInput(verdict(['eval', '--suite', 'toy-id', '--model', dir, '--limit', '1', '--json']), listed);
  });

  it('malformed --batch-file lines and --input-ids: exit 2 naming the line or flag and the problem', () => {
    const model = fixture('opt-tiny', OPT_TINY[0]);
    const batch = (text: string) =>
      verdict(['generate', '--model', model, '--batch-file', writeTmp('bad.jsonl', text), '--json']);
    const good = '{"input_ids": [0, 5, 7]}';
    assertBadInput(batch(`${good}\n{"input_ids": [1, 2\n`), /--batch-file line 2: not valid JSON/);
    assertBadInput(batch(`${good}\n\n[1, 2]\n`), /--batch-file line 3: must be a JSON object/);
    assertBadInput(
      batch(`{"prompt": "a", "input_ids": [1]}\n`),
      /--batch-file line 1: give exactly one of "prompt" or "input_ids"/,
    );
    assertBadInput(batch(`${good}\n{"ids": [1]}\n`), /--batch-file line 2: unknown field "ids"/);
    assertBadInput(
      batch(`${good}\n{"input_ids": [1, -2]}\n`),
      /--batch-file line 2: input_ids\[1\] must be an integer >= 0 \(got -2\)/,
    );
    assertBadInput(
      batch(`{"input_ids": []}\n`),
      /--batch-file line 1: "input_ids" must be a non-empty array/,
    );
    assertBadInput(batch('\n\n'), /--batch-file .* holds no rows/);
    // Checked against the loaded model's vocabulary (1024).
    assertBadInput(
      batch(`${good}\n${good}\n{"input_ids": [0, 1024]}\n`),
      /--batch-file line 3: input_ids\[1\] = 1024 is outside the vocabulary \[0, 1024\)/,
    );
    assertBadInput(
      verdict(['generate', '--model', model, '--batch-file', join(tmp, 'missing.jsonl')]),
      /--batch-file .*missing\.jsonl cannot be read/,
    );
    const ids = (value: string) => verdict(['generate', '--model', model, '--input-ids', value, '--json']);
    assertBadInput(ids('0,x,7'), /--input-ids must be comma-separated integers >= 0 \(entry 1 is "x"\)/);
    assertBadInput(ids('0,,7'), /--input-ids must be comma-separated integers >= 0 \(entry 1 is ""\)/);
    assertBadInput(ids('0,5000'), /--input-ids: entry 1 = 5000 is outside the vocabulary \[0, 1024\)/);
    assertBadInput(
      verdict(['generate', '--model', model, '--input-ids', '1', '--prompt', 'hi']),
      /give exactly one of --prompt, --input-ids, --batch-file \(got --prompt, --input-ids\)/,
    );
    assertBadInput(
      verdict(['generate', '--model', model]),
      /give exactly one of --prompt, --input-ids, --batch-file/,
    );
  });
});

describe('verdict generate --batch-file with a tokenizer (stories260k)', () => {
  it('prompt and input_ids rows in one batch equal reference.json; without --json, one text per line', () => {
    const dir = fixture('stories260k');
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
      cases: { prompt: string; input_ids: number[]; generated_ids: number[]; generated_text: string }[];
      generation: { max_new_tokens: number };
    };
    // Prompts as text and the same prompts as ids: both kinds of row, one batch.
    const rows = [
      ...ref.cases.map((c) => ({ prompt: c.prompt })),
      ...ref.cases.map((c) => ({ input_ids: c.input_ids })),
    ];
    const file = writeTmp('stories.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
    const args = ['generate', '--model', dir, '--batch-file', file, '--max-new-tokens'];
    const r = verdict([...args, String(ref.generation.max_new_tokens), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const outs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as RowOut);
    assert.equal(outs.length, rows.length);
    outs.forEach((out, i) => {
      const c = ref.cases[i % ref.cases.length]!;
      assert.deepEqual(out.prompt_ids, c.input_ids, `row ${i}`);
      assert.deepEqual(out.ids, c.generated_ids, `row ${i}`);
      assert.equal(out.text, c.generated_text, `row ${i}`);
      assert.equal(out.last_logits, undefined, 'last_logits only with --dump-logits');
    });
    const plain = verdict([...args, '4']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.trimEnd().split('\n').length >= rows.length, true);
  });
});
