import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelError } from '../errors.js';
import { readJsonFile } from '../fs-util.js';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface ChatTemplateOptions {
  /** Append the assistant turn header so the model answers next (default true). */
  readonly addGenerationPrompt?: boolean;
  /** Qwen3 templates read `enable_thinking`; false inserts an empty think block (default false). */
  readonly enableThinking?: boolean;
}

/** A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) with its special tokens and chat template. */
export interface ModelTokenizer {
  /** Number of ids the tokenizer can produce (base vocab + added tokens). */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly addBosToken: boolean;
  readonly chatTemplate: string | undefined;
  /** Ids of `text`; special tokens (e.g. BOS) are added as tokenizer.json's post-processor says. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** The vocabulary including added tokens. */
  vocab(): Map<string, number>;
  /** Renders the chat template; throws when the tokenizer has none. */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
}

type Json = Record<string, unknown>;

/** Special tokens appear either as strings or as `{content: ...}` objects in tokenizer_config.json. */
function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Json)['content'] === 'string') {
    return (v as Json)['content'] as string;
  }
  return undefined;
}

/** Builds a tokenizer from already-parsed tokenizer.json and tokenizer_config.json objects. */
export function createModelTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown): ModelTokenizer {
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
    throw new ModelError('INVALID_TOKENIZER', 'tokenizer.json has no "model" section');
  }
  const cfg = (tokenizerConfig ?? {}) as Json;
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson, cfg);
  } catch (e) {
    throw new ModelError('INVALID_TOKENIZER', `tokenizer.json could not be loaded: ${(e as Error).message}`);
  }
  const idOf = (key: string): number | undefined => {
    const s = tokenString(cfg[key]);
    return s === undefined ? undefined : tok.token_to_id(s);
  };
  const rawTemplate = cfg['chat_template'];
  let chatTemplate: string | undefined;
  if (typeof rawTemplate === 'string') chatTemplate = rawTemplate;
  else if (Array.isArray(rawTemplate)) {
    // Newer configs list named templates; 'default' is the one used for chat.
    const named = rawTemplate.find((t: Json) => t['name'] === 'default') as Json | undefined;
    if (typeof named?.['template'] === 'string') chatTemplate = named['template'];
  }
  let compiled: Template | undefined;
  const vocabSize = tok.get_vocab(true).size;
  const bosToken = tokenString(cfg['bos_token']);
  const eosToken = tokenString(cfg['eos_token']);
  return {
    vocabSize,
    bosId: idOf('bos_token'),
    eosId: idOf('eos_token'),
    padId: idOf('pad_token'),
    addBosToken: cfg['add_bos_token'] === true,
    chatTemplate,
    encode: (text, options) =>
      tok.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }).ids,
    decode: (ids, options) =>
      tok.decode([...ids], { skip_special_tokens: options?.skipSpecialTokens ?? true }),
    tokenToId: (token) => tok.token_to_id(token),
    idToToken: (id) => tok.id_to_token(id),
    vocab: () => tok.get_vocab(true),
    applyChatTemplate(messages, options) {
      if (chatTemplate === undefined)
        throw new ModelError('INVALID_ARGUMENT', 'the tokenizer has no chat_template');
      compiled ??= new Template(chatTemplate);
      return compiled.render({
        messages,
        add_generation_prompt: options?.addGenerationPrompt ?? true,
        enable_thinking: options?.enableThinking ?? false,
        bos_token: bosToken ?? '',
        eos_token: eosToken ?? '',
      });
    },
  };
}

/** Loads `<dir>/tokenizer.json` and `<dir>/tokenizer_config.json` (the latter optional). */
export function loadModelTokenizer(dir: string): ModelTokenizer {
  const tokenizerJson = readJsonFile(join(dir, 'tokenizer.json'), 'tokenizer');
  let config: unknown = {};
  try {
    config = readJsonFile(join(dir, 'tokenizer_config.json'), 'tokenizer config');
  } catch (e) {
    if (!(e instanceof ModelError && e.code === 'NOT_FOUND')) throw e;
  }
  return createModelTokenizer(tokenizerJson, config);
}
