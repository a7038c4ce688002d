import type { ModelTokenizer } from '@verdict/models';
import { UsageError } from '../framework/usage-error.js';

export interface IdTokenizerSpec {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
}

/**
 * The tokenizer of a checkpoint folder that ships none (e.g. shared/fixtures/opt-tiny, whose
 * references are on ids): prompts must come as token ids, and decoding writes each id as its
 * decimal number, space-separated ("303 303 149"). That text is prefix-stable (decoding more ids
 * only appends), so incremental decoding and stop strings behave as with a real tokenizer, and it
 * never pretends to know what the ids mean. The special ids come from config.json, so padding and
 * EOS stops are the model's own.
 */
export function createIdOnlyTokenizer(spec: IdTokenizerSpec): ModelTokenizer {
  const { vocabSize } = spec;
  const idOf = (token: string): number | undefined => {
    if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
    const id = Number(token);
    return id < vocabSize ? id : undefined;
  };
  return {
    vocabSize,
    bosId: spec.bosId,
    eosId: spec.eosId,
    padId: spec.padId,
    addBosToken: false,
    chatTemplate: undefined,
    encode() {
      // Reached only if a caller forgot the up-front check; still one clear line (exit 2).
      throw new UsageError('this model folder has no tokenizer.json: give token ids, not text');
    },
    decode(ids, options) {
      const skip = options?.skipSpecialTokens === true;
      const special = new Set([spec.bosId, spec.eosId, spec.padId]);
      return ids
        .filter((id) => !(skip && special.has(id)))
        .map(String)
        .join(' ');
    },
    tokenToId: idOf,
    idToToken: (id) => (Number.isInteger(id) && id >= 0 && id < vocabSize ? String(id) : undefined),
    vocab() {
      return new Map(Array.from({ length: vocabSize }, (_, id) => [String(id), id]));
    },
    applyChatTemplate() {
      throw new UsageError('this model folder has no tokenizer.json, so no chat template');
    },
  };
}
