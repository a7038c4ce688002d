import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHAT_TEMPLATE, JUDGE_TEMPLATE, PLAIN_TEMPLATE } from '../prompts/templates.js';
import { HELD_OUT_PEOPLE, IN_DOMAIN_PEOPLE, TOY_SCENARIOS } from './scenarios.js';

export const TOY_SPECIAL_TOKENS = ['<pad>', '<s>', '</s>', '<unk>'] as const;

/**
 * Pre-tokenizer regex: a word, a single digit, `####`, or one punctuation mark, each with at most
 * one leading space kept inside the token; newlines and stray spaces are tokens of their own.
 * Because every piece is an exact substring, the Fuse decoder restores the text byte for byte.
 */
export const TOY_PRETOKENIZER_PATTERN = String.raw` ?####| ?[A-Za-z]+| ?[0-9]| ?[^A-Za-z0-9\s]|\n| `;

const PUNCTUATION = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];

/** The words of every toy template, entity, and prompt template (plain, chat, judge). */
function toyWords(): Set<string> {
  const texts: string[] = [
    PLAIN_TEMPLATE.text,
    JUDGE_TEMPLATE.text,
    ...CHAT_TEMPLATE.messages.map((m) => m.content),
  ];
  texts.push('Question Answer Solution Yes No he she He She his her His Her him');
  for (const p of [...IN_DOMAIN_PEOPLE, ...HELD_OUT_PEOPLE]) texts.push(p.name);
  for (const s of TOY_SCENARIOS) {
    texts.push(...s.items, ...s.places, ...s.start, ...s.question);
    for (const op of Object.values(s.ops)) texts.push(...op.text, op.step);
  }
  const words = new Set<string>();
  for (const t of texts)
    for (const m of t.replaceAll(/\{\w+\}/g, ' ').matchAll(/[A-Za-z]+/g)) words.add(m[0]);
  return words;
}

/** The vocabulary: specials first, then every piece with and without its leading space, sorted. */
export function buildToyVocab(): Map<string, number> {
  const pieces = new Set<string>(['\n', ' ', '####', ' ####']);
  const add = (p: string): void => {
    pieces.add(p);
    pieces.add(` ${p}`);
  };
  for (let d = 0; d <= 9; d++) add(String(d));
  for (const p of PUNCTUATION) add(p);
  for (const w of toyWords()) add(w);
  const vocab = new Map<string, number>();
  for (const s of TOY_SPECIAL_TOKENS) vocab.set(s, vocab.size);
  for (const p of [...pieces].sort()) vocab.set(p, vocab.size);
  return vocab;
}

/**
 * A standard Hugging Face `tokenizer.json`: WordLevel model, Split pre-tokenizer (words,
 * per-digit numbers, punctuation, spaces attached), Fuse decoder, and a Llama-style
 * TemplateProcessing post-processor that prepends `<s>`.
 */
export function buildToyTokenizerJson(): Record<string, unknown> {
  const vocab = buildToyVocab();
  const special = (content: string) => ({
    id: vocab.get(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: TOY_SPECIAL_TOKENS.map(special),
    normalizer: null,
    pre_tokenizer: {
      type: 'Split',
      pattern: { Regex: TOY_PRETOKENIZER_PATTERN },
      behavior: 'Isolated',
      invert: false,
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [vocab.get('<s>')], tokens: ['<s>'] } },
    },
    decoder: { type: 'Fuse' },
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab), unk_token: '<unk>' },
  };
}

/** The companion `tokenizer_config.json` (special tokens by name, as transformers expects). */
export function buildToyTokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 512,
  };
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir`; returns the tokenizer.json path. */
export function writeToyTokenizer(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'tokenizer.json');
  writeFileSync(path, `${JSON.stringify(buildToyTokenizerJson(), null, 2)}\n`);
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    `${JSON.stringify(buildToyTokenizerConfig(), null, 2)}\n`,
  );
  return path;
}
