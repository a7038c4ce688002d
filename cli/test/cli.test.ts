import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSession, createTensor } from '@verdict/graph';
import {
  createRandomLlamaWeights,
  llamaConfigToJson,
  locateSharedDir,
  parseLlamaFamilyConfig,
  toWeightMap,
  writeSafetensors,
} from '@verdict/models';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const stories = join(locateSharedDir(), 'fixtures', 'stories260k');

/** Runs the real `npx verdict` from the repository root, as users do. */
function verdict(args: string[]) {
  const r = spawnSync('npx', ['--no-install', 'verdict', ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  assert.equal(a.length, b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

describe('verdict CLI (spawned)', () => {
  it('generate --dump-logits --json matches reference.json', () => {
    const ref = JSON.parse(readFileSync(join(stories, 'reference.json'), 'utf8'));
    const c = ref.cases[0];
    const r = verdict([
      'generate',
      '--model',
      stories,
      '--prompt',
      'Once upon a time',
      '--max-new-tokens',
      '48',
      '--temperature',
      '0',
      '--dump-logits',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout); // exactly one JSON document
    assert.deepEqual(Object.keys(out), ['prompt_ids', 'ids', 'text', 'logprobs', 'last_logits']);
    assert.deepEqual(out.prompt_ids, c.input_ids);
    assert.deepEqual(out.ids, c.generated_ids);
    assert.equal(out.text, c.generated_text);
    assert.ok(maxAbsDiff(out.logprobs, c.generated_logprobs) <= 1e-4);
    assert.ok(maxAbsDiff(out.last_logits, c.last_prompt_position_logits) <= 1e-4);
  });

  it('bad input exits 2 with one line naming the flag and the limit', () => {
    const cases: [string[], RegExp][] = [
      [['--top-p', '0'], /--top-p must be a finite number > 0 and <= 1 \(got "0"\)/],
      [['--temperature', 'nan'], /--temperature must be a finite number >= 0/],
      [['--temperature', '-1'], /--temperature must be a finite number >= 0/],
      [['--max-new-tokens', '2.5'], /--max-new-tokens must be an integer >= 1/],
      [['--top-k', '-3'], /--top-k must be an integer >= 0/],
      [['--bogus', '1'], /unknown flag --bogus/],
    ];
    for (const [extra, re] of cases) {
      const r = verdict(['generate', '--model', stories, '--prompt', 'hi', ...extra, '--json']);
      assert.equal(r.code, 2, extra.join(' '));
      assert.equal(r.stdout, '');
      const lines = r.stderr.trim().split('\n');
      assert.match(lines.at(-1)!, re);
      assert.equal(lines.filter((l) => l.startsWith('verdict')).length, 1);
    }
    const missing = verdict(['generate', '--prompt', 'hi']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--model is required/);
    const noDir = verdict(['generate', '--model', '/nonexistent/model', '--prompt', 'hi']);
    assert.equal(noDir.code, 2);
    assert.match(noDir.stderr, /model config not found: \/nonexistent\/model\/config\.json/);
    const unknown = verdict(['frobnicate']);
    assert.equal(unknown.code, 2);
  });

  it('judge --json on a Qwen3-shaped random model with the Qwen3 tokenizer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdict-cli-judge-'));
    const config = parseLlamaFamilyConfig({
      architectures: ['Qwen3ForCausalLM'],
      model_type: 'qwen3',
      vocab_size: 151_936,
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 8,
      max_position_embeddings: 512,
      tie_word_embeddings: true,
      eos_token_id: 151_645,
    });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(llamaConfigToJson(config)));
    writeSafetensors(
      join(dir, 'model.safetensors'),
      toWeightMap(config, createRandomLlamaWeights(config, 11)),
    );
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      copyFileSync(join(locateSharedDir(), 'tokenizers', 'qwen3', f), join(dir, f));
    }
    const r = verdict(['judge', '--model', dir, '--question', 'What is 2+2?', '--answer', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    // The DESIGN.md §6 keys first; status and provenance as the judge-server reports them after.
    assert.deepEqual(Object.keys(out).slice(0, 5), ['score', 'p_yes_full', 'other_mass', 'yes_id', 'no_id']);
    assert.equal(out.status, 'OK');
    assert.equal(out.provenance.template_name, 'chat');
    assert.match(out.provenance.template_hash, /^[0-9a-f]{64}$/);
    assert.equal(out.yes_id, 9454); // "Yes" at the start of the assistant turn
    assert.equal(out.no_id, 2753);
    assert.ok(out.score > 0 && out.score < 1);
    assert.ok(out.p_yes_full > 0 && out.other_mass > 0 && out.other_mass < 1);
    const bad = verdict(['judge', '--model', dir, '--question', 'q', '--answer', 'a', '--template', 'fancy']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--template must be one of auto, plain, chat/);
  });

  it('export writes model.onnx that ORT runs with optimum names', async () => {
    const out = mkdtempSync(join(tmpdir(), 'verdict-cli-export-'));
    const r = verdict(['export', '--model', stories, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    for (const f of ['model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      assert.ok(existsSync(join(out, f)), f);
      assert.ok(res.files.includes(f));
    }
    const ref = JSON.parse(readFileSync(join(stories, 'reference.json'), 'utf8'));
    const ids: number[] = ref.cases[0].input_ids;
    const session = await createSession(readFileSync(join(out, 'model.onnx')));
    const T = ids.length;
    const feeds: Record<string, ReturnType<typeof createTensor>> = {
      input_ids: createTensor('int64', [1, T], BigInt64Array.from(ids.map(BigInt))),
      attention_mask: createTensor('int64', [1, T], new BigInt64Array(T).fill(1n)),
      position_ids: createTensor('int64', [1, T], BigInt64Array.from(ids.map((_, i) => BigInt(i)))),
    };
    for (let l = 0; l < 5; l++) {
      feeds[`past_key_values.${l}.key`] = createTensor('float32', [1, 4, 0, 8]);
      feeds[`past_key_values.${l}.value`] = createTensor('float32', [1, 4, 0, 8]);
    }
    const o = await session.run(feeds);
    assert.deepEqual(o['logits']!.dims, [1, T, 512]);
    assert.deepEqual(o['present.4.key']!.dims, [1, 4, T, 8]);
    const last = Array.from((o['logits']!.data as Float32Array).subarray((T - 1) * 512));
    assert.ok(maxAbsDiff(last, ref.cases[0].last_prompt_position_logits) <= 1e-4);
  });
});
