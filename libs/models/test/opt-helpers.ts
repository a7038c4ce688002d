import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModelTokenizer, locateSharedDir, type ModelTokenizer } from '../src/index.js';

/** The two tiny random OPT checkpoints of shared/fixtures/opt-tiny (see its README). */
export const OPT_TINY = ['opt-tiny-galactica', 'opt-tiny-350m-style'] as const;

export interface OptReferenceCase {
  input_ids: number[];
  all_position_logits: number[][];
  generated_ids: number[];
  generated_logprobs: number[];
}

export interface OptReference {
  cases: OptReferenceCase[];
  batched: {
    pad_token_id: number;
    input_ids: number[][];
    attention_mask: number[][];
    last_position_logits: number[][];
    generated_ids: number[][];
    generated_logprobs: number[][];
  };
  generation: { max_new_tokens: number };
  tolerance: { logits_abs: number; logprobs_abs: number };
}

/** The fixture folder; locateSharedDir throws NOT_FOUND naming where it looked when shared data is absent. */
export function optTinyDir(name: string): string {
  return join(locateSharedDir(), 'fixtures', 'opt-tiny', name);
}

export function loadOptReference(name: string): OptReference {
  return JSON.parse(readFileSync(join(optTinyDir(name), 'reference.json'), 'utf8')) as OptReference;
}

/**
 * The fixtures ship no tokenizer (references are on ids), and generation decodes its output. A
 * real WordPiece tokenizer over the ids' vocabulary, with OPT's specials (<s> 0, <pad> 1, </s> 2),
 * so the pad id generation uses is OPT's 1.
 */
export function idTokenizer(vocabSize: number): ModelTokenizer {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const vocab: Record<string, number> = {};
  for (let i = 0; i < vocabSize; i++) vocab[specials[i] ?? `t${i}`] = i;
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
    model: {
      type: 'WordPiece',
      unk_token: '<unk>',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
  return createModelTokenizer(tokenizerJson, {
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
  });
}
