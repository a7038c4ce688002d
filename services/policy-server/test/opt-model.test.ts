import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeToyTokenizer } from '@verdict/data';
import {
  generate,
  isModelError,
  loadModelConfig,
  loadModelTokenizer,
  locateSharedDir,
  supportedModelTypes,
} from '@verdict/models';
import { buildWarmModel, parseSafetensorsWeights } from '../src/weights/build-model.js';
import { collect, generateRequest, policyClient, startPolicy } from './helpers.js';

// The server loads any registered family through the model registry. An OPT checkpoint
// (shared/fixtures/opt-tiny: no tokenizer, so the toy tokenizer is added; prompts go as token ids)
// serves Generate with the references' greedy ids; new weights for it are checked and built by
// the OPT family (the hot-swap path); an unsupported model_type fails the start with its message.

interface OptReference {
  cases: { input_ids: number[]; generated_ids: number[]; generated_logprobs: number[] }[];
  generation: { max_new_tokens: number };
  tolerance: { logprobs_abs: number };
}

const tmp = mkdtempSync(join(tmpdir(), 'verdict-policy-opt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function optTiny(name: string): string {
  const dir = join(locateSharedDir(), 'fixtures', 'opt-tiny', name);
  if (!existsSync(join(dir, 'config.json'))) {
    throw new Error(`opt-tiny fixture not found at ${dir} (set VERDICT_SHARED_DIR to the shared folder)`);
  }
  return dir;
}

/** An opt-tiny checkpoint's config and weights with the toy tokenizer (its specials match OPT's eos 2). */
function optModelDir(name: string): string {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(optTiny(name), f), join(dir, f));
  writeToyTokenizer(dir);
  return dir;
}

function reference(name: string): OptReference {
  return JSON.parse(readFileSync(join(optTiny(name), 'reference.json'), 'utf8')) as OptReference;
}

describe('policy-server with an OPT model', () => {
  it('POLICY_MODEL_DIR loads through the registry; Generate from token ids gives the reference ids', async () => {
    const ref = reference('opt-tiny-galactica');
    const { app, address } = await startPolicy({ POLICY_MODEL_DIR: optModelDir('opt-tiny-galactica') });
    const client = policyClient(address);
    try {
      const info = await client.unary('getModelInfo', {});
      assert.equal(info.vocabSize, 1024);
      assert.equal(info.maxContextTokens, 128);
      const request = {
        ...generateRequest([], { maxNewTokens: ref.generation.max_new_tokens }),
        prompts: ref.cases.map((c) => ({ tokenIds: { ids: c.input_ids }, applyChatTemplate: false })),
      };
      const seqs = await collect(client.serverStream('generate', request));
      ref.cases.forEach((c, p) => {
        const s = seqs.get(`${p}/0`)!;
        assert.deepEqual(s.promptIds, c.input_ids);
        assert.deepEqual(s.ids, c.generated_ids, `prompt ${p}`);
        s.logprobs.forEach((lp, i) => {
          assert.ok(
            Math.abs(lp - c.generated_logprobs[i]!) <= ref.tolerance.logprobs_abs,
            `prompt ${p} logprob ${i}`,
          );
        });
      });
    } finally {
      client.close();
      await app.stop();
    }
  });

  it('new OPT weights are checked and built by the OPT family (the hot-swap path)', async () => {
    const ref = reference('opt-tiny-350m-style');
    const dir = optModelDir('opt-tiny-350m-style');
    const config = loadModelConfig(dir);
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    const model = await buildWarmModel(
      config,
      parseSafetensorsWeights(bytes, config),
      loadModelTokenizer(dir),
      {},
    );
    try {
      const c = ref.cases[0]!;
      const [g] = await generate(model, [{ ids: c.input_ids }], {
        maxNewTokens: ref.generation.max_new_tokens,
        temperature: 0,
      });
      assert.deepEqual(g!.ids, c.generated_ids);
    } finally {
      await model.close();
    }
    // Weights of the other OPT shape do not fit this config: rejected naming a tensor.
    const other = readFileSync(join(optTiny('opt-tiny-galactica'), 'model.safetensors'));
    assert.throws(
      () => parseSafetensorsWeights(other, config),
      (error: unknown) => isModelError(error) && /decoder/.test(error.message),
    );
  });

  it('an unsupported model_type fails the start (and main.ts exits 2) with the message listing the supported types', async () => {
    const dir = mkdtempSync(join(tmp, 'gpt2-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
    await assert.rejects(startPolicy({ POLICY_MODEL_DIR: dir }), (error: unknown) => {
      assert.ok(isModelError(error), String(error));
      assert.equal(error.code, 'UNSUPPORTED_ARCHITECTURE');
      assert.equal(
        error.message,
        `unsupported model_type "gpt2": supported are ${supportedModelTypes().join(', ')}`,
      );
      return true;
    });
    // The process (main.ts): one line naming the problem, exit 2 like a bad variable.
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, POLICY_MODEL_DIR: dir, POLICY_PORT: '0', POLICY_HOST: '127.0.0.1' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(
      r.stderr.trim().split('\n').at(-1),
      `policy-server: unsupported model_type "gpt2": supported are ${supportedModelTypes().join(', ')}`,
    );
  });
});
