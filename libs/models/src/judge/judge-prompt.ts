import { ModelError } from '../errors.js';
import type { ModelTokenizer } from '../tokenizer/tokenizer.js';

/**
 * Judge prompt templates:
 * - `plain`: DESIGN.md §1 text, ending in "Answer:" so the verdict is the next word (" Yes"/" No");
 * - `chat`: the same question as a user turn through the model's chat template (Qwen3: thinking off),
 *   so the verdict is the first assistant token ("Yes"/"No");
 * - `auto` (default): `chat` when the tokenizer has a chat template, else `plain`.
 */
export type JudgeTemplateName = 'auto' | 'plain' | 'chat';
export const JUDGE_TEMPLATE_NAMES: readonly JudgeTemplateName[] = ['auto', 'plain', 'chat'];

export const JUDGE_INSTRUCTION = 'Is this solution correct? Answer Yes or No.';

function userText(question: string, answer: string): string {
  return `Question: ${question}\nSolution: ${answer}\n${JUDGE_INSTRUCTION}`;
}

export function resolveJudgeTemplate(
  tokenizer: ModelTokenizer,
  name: JudgeTemplateName = 'auto',
): 'plain' | 'chat' {
  if (!JUDGE_TEMPLATE_NAMES.includes(name)) {
    throw new ModelError(
      'INVALID_ARGUMENT',
      `template must be one of ${JUDGE_TEMPLATE_NAMES.join(', ')} (got ${name})`,
    );
  }
  if (name === 'chat' && tokenizer.chatTemplate === undefined) {
    throw new ModelError('INVALID_ARGUMENT', 'template "chat" needs a tokenizer with a chat_template');
  }
  if (name === 'auto') return tokenizer.chatTemplate === undefined ? 'plain' : 'chat';
  return name;
}

/** The judge prompt text for one (question, answer); special tokens are added when encoding. */
export function renderJudgePrompt(
  tokenizer: ModelTokenizer,
  question: string,
  answer: string,
  template: 'plain' | 'chat',
): string {
  if (template === 'plain') return `${userText(question, answer)}\nAnswer:`;
  return tokenizer.applyChatTemplate([{ role: 'user', content: userText(question, answer) }], {
    addGenerationPrompt: true,
    enableThinking: false,
  });
}

/** Encodes a rendered judge prompt: chat templates already hold their special tokens. */
export function encodeJudgePrompt(
  tokenizer: ModelTokenizer,
  text: string,
  template: 'plain' | 'chat',
): number[] {
  return tokenizer.encode(text, { addSpecialTokens: template === 'plain' });
}

/**
 * Finds the single token the model emits for `word` right after a judge prompt: " Yes" after
 * "Answer:" (plain), "Yes" at the start of the assistant turn (chat). The probe encodes
 * prompt + continuation and requires exactly one extra token; several tokens, or a merge with
 * the prompt's end, is an error rather than a guess.
 */
export function findVerdictTokenId(
  tokenizer: ModelTokenizer,
  word: string,
  template: 'plain' | 'chat',
): number {
  const probe = renderJudgePrompt(tokenizer, 'Q', 'A', template);
  const continuation = template === 'plain' ? ` ${word}` : word;
  const base = encodeJudgePrompt(tokenizer, probe, template);
  const full = encodeJudgePrompt(tokenizer, probe + continuation, template);
  const prefixKept = base.every((id, i) => full[i] === id);
  if (!prefixKept || full.length !== base.length + 1) {
    const alone = tokenizer.encode(continuation, { addSpecialTokens: false });
    throw new ModelError(
      'INVALID_TOKENIZER',
      `cannot find one token for the judge answer ${JSON.stringify(continuation)}: it encodes as [${alone.join(', ')}] (${alone.length} tokens)`,
    );
  }
  return full[full.length - 1]!;
}

export function findYesNoTokenIds(
  tokenizer: ModelTokenizer,
  template: 'plain' | 'chat',
): { yesId: number; noId: number } {
  const yesId = findVerdictTokenId(tokenizer, 'Yes', template);
  const noId = findVerdictTokenId(tokenizer, 'No', template);
  if (yesId === noId)
    throw new ModelError('INVALID_TOKENIZER', `Yes and No map to the same token id ${yesId}`);
  return { yesId, noId };
}
