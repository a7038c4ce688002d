import { createHash } from 'node:crypto';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

interface TemplateBase {
  readonly name: string;
  /**
   * sha256 of the template's text (for chat: of its JSON), first 12 hex digits. Every result
   * records it, so a changed template can never be mistaken for the old one.
   */
  readonly version: string;
}

/** Plain-text student prompt: the completion follows the prompt directly. */
export interface TextTemplate extends TemplateBase {
  readonly kind: 'plain' | 'judge';
  /** Text with `{question}` (and for the judge `{solution}`) placeholders. */
  readonly text: string;
}

/** Chat student prompt: messages for a tokenizer's chat template; the solution is the assistant turn. */
export interface ChatTemplate extends TemplateBase {
  readonly kind: 'chat';
  readonly messages: readonly ChatMessage[];
}

export type PromptTemplate = TextTemplate | ChatTemplate;

/** First 12 hex digits of sha256 over the text: the template version. */
export function templateVersion(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 12);
}

function textTemplate(name: string, kind: 'plain' | 'judge', text: string): TextTemplate {
  return { name, kind, text, version: templateVersion(text) };
}

function chatTemplate(name: string, messages: readonly ChatMessage[]): ChatTemplate {
  return { name, kind: 'chat', messages, version: templateVersion(JSON.stringify(messages)) };
}

/** The GSM8K-style plain prompt (Galactica/paper style); the model continues with " <solution>". */
export const PLAIN_TEMPLATE = textTemplate('plain', 'plain', 'Question: {question}\nAnswer:');

export const CHAT_TEMPLATE = chatTemplate('chat', [
  {
    role: 'system',
    content:
      "Solve the math word problem step by step. Write the final answer on the last line as '#### <number>'.",
  },
  { role: 'user', content: '{question}' },
]);

/**
 * The judge prompt (DESIGN.md §1): the judge's next token after "Answer:" is read as " Yes"/" No"
 * at the last prompt position.
 */
export const JUDGE_TEMPLATE = textTemplate(
  'judge',
  'judge',
  'Question: {question}\nSolution: {solution}\nIs this solution correct? Answer Yes or No.\nAnswer:',
);

export const PROMPT_TEMPLATES: Readonly<Record<string, PromptTemplate>> = {
  plain: PLAIN_TEMPLATE,
  chat: CHAT_TEMPLATE,
  judge: JUDGE_TEMPLATE,
};

export function getPromptTemplate(name: string): PromptTemplate {
  const t = PROMPT_TEMPLATES[name];
  if (t === undefined) {
    throw new RangeError(
      `unknown prompt template "${name}"; known: ${Object.keys(PROMPT_TEMPLATES).join(', ')}`,
    );
  }
  return t;
}

/** Fills `{question}` / `{solution}` in one pass, so a value containing "{solution}" stays literal. */
export function fillTemplate(text: string, values: { question: string; solution?: string }): string {
  return text.replaceAll(/\{(question|solution)\}/g, (_whole, key: string) => {
    const value = key === 'question' ? values.question : values.solution;
    if (value === undefined) throw new RangeError(`template needs {${key}}`);
    return value;
  });
}

/** A rendered student prompt: plain text or chat messages, with the template version to record. */
export type RenderedPrompt =
  | { readonly kind: 'plain'; readonly text: string; readonly template: string; readonly version: string }
  | {
      readonly kind: 'chat';
      readonly messages: ChatMessage[];
      readonly template: string;
      readonly version: string;
    };

export function renderStudentPrompt(
  question: string,
  template: PromptTemplate = PLAIN_TEMPLATE,
): RenderedPrompt {
  if (template.kind === 'chat') {
    return {
      kind: 'chat',
      messages: template.messages.map((m) => ({
        role: m.role,
        content: fillTemplate(m.content, { question }),
      })),
      template: template.name,
      version: template.version,
    };
  }
  if (template.kind === 'judge') throw new RangeError('the judge template is not a student prompt');
  return {
    kind: 'plain',
    text: fillTemplate(template.text, { question }),
    template: template.name,
    version: template.version,
  };
}

/**
 * One SFT example. Plain: the completion is " " + solution (the prompt ends at "Answer:").
 * Chat: the messages plus the solution as the assistant turn.
 */
export function formatSftExample(
  problem: { question: string; solution: string },
  template: PromptTemplate = PLAIN_TEMPLATE,
): { prompt: RenderedPrompt; completion: string } {
  const prompt = renderStudentPrompt(problem.question, template);
  return { prompt, completion: prompt.kind === 'plain' ? ` ${problem.solution}` : problem.solution };
}

/** The judge prompt text for a (question, solution) pair, with the template version to record. */
export function renderJudgePrompt(
  question: string,
  solution: string,
  template: TextTemplate = JUDGE_TEMPLATE,
): { text: string; template: string; version: string } {
  if (template.kind !== 'judge') throw new RangeError(`template "${template.name}" is not a judge template`);
  return {
    text: fillTemplate(template.text, { question, solution }),
    template: template.name,
    version: template.version,
  };
}

/** The judge's answer tokens as they follow "Answer:" in text (leading space). */
export const JUDGE_YES = ' Yes';
export const JUDGE_NO = ' No';
