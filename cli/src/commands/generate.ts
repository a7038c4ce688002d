import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelTokenizer } from '@verdict/models';
import { defineCommand } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';
import { checkRowIds, readGenerateInput } from '../generate/generate-input.js';
import { createIdOnlyTokenizer } from '../generate/id-tokenizer.js';

/** What one row prints (DESIGN.md §6); `last_logits` only with --dump-logits. */
interface RowOutput {
  prompt_ids: number[];
  ids: number[];
  text: string;
  logprobs: number[];
  last_logits?: number[];
}

/** A single row prints one object; a --batch-file prints an array (one JSON line per row with --json). */
type GenerateResult = RowOutput | RowOutput[];

/**
 * A folder without tokenizer.json gets the id-only tokenizer (ids in, ids as text out) with the
 * special ids of its config.json. Loading the config through the registry first means an unknown
 * model_type or a missing folder fails here with the engine's own message.
 */
async function idOnlyTokenizerFor(dir: string): Promise<ModelTokenizer> {
  const { loadModelConfig } = await import('@verdict/models');
  const config = loadModelConfig(dir);
  const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const pad = raw['pad_token_id'];
  return createIdOnlyTokenizer({
    vocabSize: config.vocabSize,
    bosId: config.bosTokenId,
    eosId: config.eosTokenIds[0],
    padId: typeof pad === 'number' && Number.isInteger(pad) ? pad : undefined,
  });
}

export default defineCommand({
  name: 'generate',
  summary: 'generate continuations of a prompt, token ids or a batch file (greedy at temperature 0)',
  flags: {
    model: {
      type: 'string',
      required: true,
      description: 'Hugging Face model folder of any registered family (config.json, safetensors, tokenizer)',
    },
    prompt: { type: 'string', description: 'prompt text (BOS added as the tokenizer says)' },
    inputIds: {
      type: 'string',
      description:
        'one prompt as comma-separated token ids (0,5,7), used verbatim; works without a tokenizer',
    },
    batchFile: {
      type: 'string',
      description: 'JSONL of {"prompt": "..."} or {"input_ids": [...]} rows, run as one left-padded batch',
    },
    maxNewTokens: { type: 'int', default: 64, min: 1, description: 'most tokens to generate' },
    temperature: { type: 'number', default: 0, min: 0, description: 'sampling temperature; 0 = greedy' },
    topP: { type: 'number', default: 1, greaterThan: 0, max: 1, description: 'nucleus sampling mass' },
    topK: { type: 'int', default: 0, min: 0, description: 'keep the k most likely tokens; 0 = off' },
    seed: { type: 'int', default: 0, description: 'sampling seed (same seed, same output)' },
    dumpLogits: {
      type: 'boolean',
      description: 'add last_logits: full-vocab logits at the last prompt position',
    },
  },
  async run(flags, ctx): Promise<GenerateResult> {
    // Flags and batch file are checked before the (slow) model load.
    const input = readGenerateInput(flags);
    const { loadModel, generate } = await import('@verdict/models');
    const tokenizer = existsSync(join(flags.model, 'tokenizer.json'))
      ? undefined
      : await idOnlyTokenizerFor(flags.model);
    if (tokenizer !== undefined) {
      const text = input.rows.find((r) => r.kind === 'text');
      if (text !== undefined) {
        throw new UsageError(
          `${text.where}: text needs a tokenizer and ${flags.model} has no tokenizer.json; give token ids (--input-ids, or "input_ids" rows in --batch-file)`,
        );
      }
      ctx.progress(`${flags.model} has no tokenizer.json: ids in, text = the ids`);
    }
    ctx.progress(`loading ${flags.model}`);
    const model = loadModel(flags.model, tokenizer === undefined ? {} : { tokenizer });
    try {
      checkRowIds(input.rows, model.config.vocabSize);
      // One generate() call over every row: left-padded into one batch (the model has one replica).
      const outs = await generate(
        model,
        input.rows.map((r) => (r.kind === 'text' ? r.text : { ids: r.ids })),
        {
          maxNewTokens: flags.maxNewTokens,
          temperature: flags.temperature,
          topP: flags.topP,
          topK: flags.topK,
          seed: flags.seed,
          returnPromptLogits: flags.dumpLogits,
        },
      );
      if (outs.length !== input.rows.length) throw new Error('generate did not return one result per row');
      const rows = outs.map(
        (out): RowOutput => ({
          prompt_ids: [...out.promptIds],
          ids: out.ids,
          text: out.text,
          logprobs: out.logprobs,
          ...(flags.dumpLogits && out.promptLogits ? { last_logits: Array.from(out.promptLogits) } : {}),
        }),
      );
      const tokens = outs.reduce((n, o) => n + o.ids.length, 0);
      ctx.progress(
        input.batch
          ? `generated ${tokens} tokens over ${rows.length} rows`
          : `generated ${tokens} tokens (${outs[0]!.finishReason})`,
      );
      return input.batch ? rows : rows[0]!;
    } finally {
      await model.close();
    }
  },
  format: (r) =>
    Array.isArray(r) ? (r as RowOutput[]).map((x) => x.text).join('\n') : (r as RowOutput).text,
  // DESIGN.md §6: a batch prints one JSON line per row, in input order.
  formatJson: (r) => (Array.isArray(r) ? r.map((x) => JSON.stringify(x)).join('\n') : JSON.stringify(r)),
});
