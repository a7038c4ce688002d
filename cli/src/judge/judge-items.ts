import { readFileSync } from 'node:fs';
import { UsageError } from '../framework/usage-error.js';

/** One (question, answer) to judge; `id` is echoed in batch output. */
export interface JudgeInputItem {
  readonly id: string;
  readonly question: string;
  readonly answer: string;
}

function field(row: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = row[n];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/**
 * The items of one `verdict judge` call: either --question/--answer (one item) or --items FILE
 * (JSONL, one `{"id"?, "question", "answer" | "solution"}` per line). Problems name the flag
 * and, for files, the line.
 */
export function readJudgeItems(flags: {
  question: string | undefined;
  answer: string | undefined;
  items: string | undefined;
}): { items: JudgeInputItem[]; batch: boolean } {
  if (flags.items !== undefined) {
    if (flags.question !== undefined || flags.answer !== undefined) {
      throw new UsageError('give either --items or --question/--answer, not both');
    }
    let text: string;
    try {
      text = readFileSync(flags.items, 'utf8');
    } catch (e) {
      throw new UsageError(`--items ${flags.items} cannot be read: ${(e as Error).message}`);
    }
    const items: JudgeInputItem[] = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new UsageError(`--items line ${i + 1} is not JSON`);
      }
      const r = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
      const question = field(r, ['question']);
      const answer = field(r, ['answer', 'solution']);
      if (question === undefined || answer === undefined) {
        throw new UsageError(`--items line ${i + 1} needs string fields "question" and "answer"`);
      }
      const id = field(r, ['id']) ?? String(items.length);
      items.push({ id, question, answer });
    });
    if (items.length === 0) throw new UsageError(`--items ${flags.items} holds no items`);
    return { items, batch: true };
  }
  if (flags.question === undefined) throw new UsageError('--question is required (or --items FILE)');
  if (flags.answer === undefined) throw new UsageError('--answer is required (or --items FILE)');
  return { items: [{ id: '0', question: flags.question, answer: flags.answer }], batch: false };
}
