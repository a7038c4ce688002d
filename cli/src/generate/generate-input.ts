import { readFileSync } from 'node:fs';
import { UsageError } from '../framework/usage-error.js';

/** One row of `verdict generate`: text for the tokenizer, or token ids used verbatim. */
export type GenerateRow =
  | { readonly kind: 'text'; readonly text: string; readonly where: string }
  | { readonly kind: 'ids'; readonly ids: readonly number[]; readonly where: string };

/** The rows of one call and whether the output is one row (--prompt/--input-ids) or a batch. */
export interface GenerateInput {
  readonly rows: readonly GenerateRow[];
  readonly batch: boolean;
}

/** `0,5,7` → [0, 5, 7]; anything else names --input-ids and the offending entry. */
export function parseInputIds(raw: string): number[] {
  if (raw.trim() === '') throw new UsageError('--input-ids must list at least one token id (got "")');
  return raw
    .split(',')
    .map((p) => p.trim())
    .map((p, i) => {
      if (!/^[0-9]+$/.test(p) || !Number.isSafeInteger(Number(p))) {
        throw new UsageError(
          `--input-ids must be comma-separated integers >= 0 (entry ${i} is ${JSON.stringify(p)})`,
        );
      }
      return Number(p);
    });
}

function rowOf(value: unknown, where: string): GenerateRow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${where}: must be a JSON object {"prompt": "..."} or {"input_ids": [...]}`);
  }
  const row = value as Record<string, unknown>;
  const unknown = Object.keys(row).filter((k) => k !== 'prompt' && k !== 'input_ids');
  if (unknown.length > 0) {
    throw new UsageError(
      `${where}: unknown field ${JSON.stringify(unknown[0])} (a row has "prompt" or "input_ids")`,
    );
  }
  const hasPrompt = 'prompt' in row;
  if (hasPrompt === 'input_ids' in row) {
    throw new UsageError(`${where}: give exactly one of "prompt" or "input_ids"`);
  }
  if (hasPrompt) {
    const text = row['prompt'];
    if (typeof text !== 'string' || text === '') {
      throw new UsageError(`${where}: "prompt" must be a non-empty string`);
    }
    return { kind: 'text', text, where };
  }
  const ids = row['input_ids'];
  if (!Array.isArray(ids) || ids.length === 0) {
    throw new UsageError(`${where}: "input_ids" must be a non-empty array of integers >= 0`);
  }
  ids.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new UsageError(`${where}: input_ids[${i}] must be an integer >= 0 (got ${JSON.stringify(id)})`);
    }
  });
  return { kind: 'ids', ids: ids as number[], where };
}

/**
 * The rows of a --batch-file: JSONL, one `{"prompt": "..."}` or `{"input_ids": [...]}` per line
 * (blank lines skipped; line numbers count every line, from 1, as editors show them).
 */
export function readBatchFile(path: string): GenerateRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--batch-file ${path} cannot be read: ${(e as Error).message}`);
  }
  const rows: GenerateRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `--batch-file line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new UsageError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    rows.push(rowOf(value, where));
  });
  if (rows.length === 0) throw new UsageError(`--batch-file ${path} holds no rows`);
  return rows;
}

/** Exactly one of --prompt, --input-ids, --batch-file. */
export function readGenerateInput(flags: {
  prompt: string | undefined;
  inputIds: string | undefined;
  batchFile: string | undefined;
}): GenerateInput {
  const given = [
    flags.prompt === undefined ? undefined : '--prompt',
    flags.inputIds === undefined ? undefined : '--input-ids',
    flags.batchFile === undefined ? undefined : '--batch-file',
  ].filter((f) => f !== undefined);
  if (given.length !== 1) {
    throw new UsageError(
      `give exactly one of --prompt, --input-ids, --batch-file${given.length > 1 ? ` (got ${given.join(', ')})` : ''}`,
    );
  }
  if (flags.batchFile !== undefined) return { rows: readBatchFile(flags.batchFile), batch: true };
  if (flags.inputIds !== undefined) {
    return {
      rows: [{ kind: 'ids', ids: parseInputIds(flags.inputIds), where: '--input-ids' }],
      batch: false,
    };
  }
  return { rows: [{ kind: 'text', text: flags.prompt!, where: '--prompt' }], batch: false };
}

/**
 * Ids must be inside the model's vocabulary; checked here so the message names the flag or
 * line rather than the engine's "prompt i".
 */
export function checkRowIds(rows: readonly GenerateRow[], vocabSize: number): void {
  for (const row of rows) {
    if (row.kind !== 'ids') continue;
    const at = row.ids.findIndex((id) => id >= vocabSize);
    if (at >= 0) {
      const name = row.where === '--input-ids' ? `entry ${at}` : `input_ids[${at}]`;
      throw new UsageError(
        `${row.where}: ${name} = ${row.ids[at]} is outside the vocabulary [0, ${vocabSize})`,
      );
    }
  }
}
