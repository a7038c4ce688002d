import type { ModelTokenizer } from '../tokenizer/tokenizer.js';

/** The decoded text of a growing token sequence, updated from its last few tokens only. */
export interface IncrementalText {
  /** Call after each new token with all ids so far; returns the text that became final ('' if none yet). */
  push(ids: readonly number[]): string;
  /** All final text so far: decode(ids) except a held-back incomplete tail (a split UTF-8 character). */
  readonly text: string;
}

/**
 * Incremental detokenization with the prefix/read offsets of Hugging Face text-generation-inference:
 * each push decodes only the tokens since the last emitted text plus one token of context, so
 * word-boundary rules (SentencePiece's stripped leading space, byte-level merges) see what the full
 * decode sees. Text ending in U+FFFD (bytes of a character not complete yet) is held back until the
 * next token completes it. Cost per token is O(window), not O(length) like decoding everything.
 */
export function createIncrementalText(tokenizer: Pick<ModelTokenizer, 'decode'>): IncrementalText {
  let prefixOffset = 0;
  let readOffset = 0;
  let text = '';
  return {
    push(ids) {
      // The tokenizer rejects an empty id list.
      const prefixText =
        readOffset > prefixOffset ? tokenizer.decode(ids.slice(prefixOffset, readOffset)) : '';
      const newText = tokenizer.decode(ids.slice(prefixOffset));
      if (newText.length <= prefixText.length || newText.endsWith('\uFFFD')) return '';
      const delta = newText.slice(prefixText.length);
      prefixOffset = readOffset;
      readOffset = ids.length;
      text += delta;
      return delta;
    },
    get text() {
      return text;
    },
  };
}

/** Length of the longest suffix of `text` that is a proper prefix of one of `stops` (text that may still become a stop). */
export function stopPrefixHoldback(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const s of stops) {
    for (let n = Math.min(s.length - 1, text.length); n > hold; n--) {
      if (text.endsWith(s.slice(0, n))) {
        hold = n;
        break;
      }
    }
  }
  return hold;
}
