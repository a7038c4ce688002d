import { readFileSync } from 'node:fs';
import type { ModelTokenizer } from '@verdict/models';
import type { TrainBatch } from '../train-batch.js';

/** Bad SFT input; `code` is what the CLI maps to exit 2. */
export class SftInputError extends Error {
  readonly code: 'INVALID_ARGUMENT' | 'NOT_FOUND';
  constructor(code: 'INVALID_ARGUMENT' | 'NOT_FOUND', message: string) {
    super(message);
    this.name = 'SftInputError';
    this.code = code;
  }
}

export interface SftExample {
  readonly prompt: string;
  readonly completion: string;
}

/** Token ids of prompt ++ completion (++ EOS); the loss covers ids[promptLen..]. */
export interface TokenizedSftExample {
  readonly ids: readonly number[];
  readonly promptLen: number;
}

/** Reads prompt/completion JSONL (blank lines skipped); every bad line is reported at once. */
export function readSftJsonl(path: string): SftExample[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new SftInputError('NOT_FOUND', `--data: cannot read ${path}`);
  }
  const out: SftExample[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1}: not JSON`);
      return;
    }
    const r = row as { prompt?: unknown; completion?: unknown };
    if (typeof r.prompt !== 'string' || typeof r.completion !== 'string' || r.completion === '') {
      problems.push(`line ${i + 1}: needs string "prompt" and non-empty string "completion"`);
      return;
    }
    out.push({ prompt: r.prompt, completion: r.completion });
  });
  if (problems.length > 0)
    throw new SftInputError('INVALID_ARGUMENT', `--data ${path}: ${problems.slice(0, 5).join('; ')}`);
  if (out.length === 0) throw new SftInputError('INVALID_ARGUMENT', `--data ${path}: no examples`);
  return out;
}

/**
 * Prompt encoded with the tokenizer's special tokens (BOS), completion without, then EOS — the
 * prompt-completion format TRL uses. Sequences are cut to maxSeqLen + 1 ids (maxSeqLen positions
 * after the shift); an example with no completion token left is dropped and counted.
 */
export function tokenizeSftExamples(
  tokenizer: ModelTokenizer,
  examples: readonly SftExample[],
  maxSeqLen: number,
  eosId: number | undefined,
): { examples: TokenizedSftExample[]; dropped: number } {
  const out: TokenizedSftExample[] = [];
  let dropped = 0;
  for (const ex of examples) {
    const prompt = tokenizer.encode(ex.prompt);
    const completion = tokenizer.encode(ex.completion, { addSpecialTokens: false });
    if (eosId !== undefined) completion.push(eosId);
    const ids = [...prompt, ...completion].slice(0, maxSeqLen + 1);
    // Loss positions predict ids[promptLen..]; at least one must survive truncation and the prompt
    // must leave a position to predict from.
    const promptLen = Math.max(1, prompt.length);
    if (ids.length <= promptLen) {
      dropped++;
      continue;
    }
    out.push({ ids, promptLen });
  }
  return { examples: out, dropped };
}

/** A right-padded batch: position t predicts ids[t+1], the loss mask covers completion targets only. */
export function sftBatch(examples: readonly TokenizedSftExample[], padId = 0): TrainBatch {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.ids.length)) - 1;
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Int32Array(B * T);
  const targets = new Int32Array(B * T).fill(padId);
  const lossMask = new Float32Array(B * T);
  examples.forEach((ex, b) => {
    for (let t = 0; t < ex.ids.length - 1; t++) {
      inputIds[b * T + t] = ex.ids[t]!;
      attentionMask[b * T + t] = 1;
      targets[b * T + t] = ex.ids[t + 1]!;
      lossMask[b * T + t] = t + 1 >= ex.promptLen ? 1 : 0;
    }
  });
  return { batchSize: B, seqLen: T, inputIds, attentionMask, targets, lossMask };
}
